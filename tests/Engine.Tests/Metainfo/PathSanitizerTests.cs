using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Tests.Metainfo;

public class PathSanitizerTests
{
    [Theory]
    [InlineData("normal.txt", "normal.txt")]
    [InlineData("..", "_")]
    [InlineData(".", "_")]
    [InlineData("", "_")]
    [InlineData("a/b", "a_b")]
    [InlineData("a\\b", "a_b")]
    [InlineData("/etc/passwd", "_etc_passwd")]
    [InlineData("C:\\Windows", "C__Windows")]
    [InlineData("a\0b", "a_b")]
    [InlineData("tab\there", "tab_here")]
    [InlineData("CON", "_CON")]
    [InlineData("con.txt", "_con.txt")]
    [InlineData("LPT9", "_LPT9")]
    [InlineData("COM1.log", "_COM1.log")]
    [InlineData("CONSOLE", "CONSOLE")]
    [InlineData("name. . ", "name")]
    [InlineData("what?.txt", "what_.txt")]
    [InlineData("ünïcødé", "ünïcødé")]
    public void SanitizeSegment_Input_ReturnsSafeName(string input, string expected)
        => Assert.Equal(expected, PathSanitizer.SanitizeSegment(input));

    [Fact]
    public void SanitizeSegment_OverLong_ShortensKeepingExtension()
    {
        var s = PathSanitizer.SanitizeSegment(new string('é', 300) + ".mkv");
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(s) <= PathSanitizer.MaxSegmentBytes);
        Assert.EndsWith(".mkv", s);
    }

    [Fact]
    public void SanitizeSegments_Empty_ReturnsPlaceholder() => Assert.Equal(["_"], PathSanitizer.SanitizeSegments([]));

    [Theory]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("/etc/passwd")]
    [InlineData("..")]
    [InlineData("")]
    [InlineData("a\0b")]
    public void TryResolveUnderRoot_Escaping_ReturnsFalse(string relative)
    {
        var root = Path.Combine(Path.GetTempPath(), "te-root");
        Assert.False(PathSanitizer.TryResolveUnderRoot(root, relative, out _));
        Assert.Throws<UnauthorizedAccessException>(() => PathSanitizer.ResolveUnderRoot(root, relative));
    }

    [Fact]
    public void ResolveUnderRoot_SiblingWithSamePrefix_Rejected()
    {
        var root = Path.Combine(Path.GetTempPath(), "te-root");
        Assert.False(PathSanitizer.TryResolveUnderRoot(root, "../te-root2/x", out _));
    }

    [Fact]
    public void ResolveUnderRoot_Inside_ReturnsFullPath()
    {
        var root = Path.Combine(Path.GetTempPath(), "te-root");
        Assert.Equal(Path.Combine(Path.GetFullPath(root), "a", "b.txt"), PathSanitizer.ResolveUnderRoot(root + "/", "a/b.txt"));
    }
}
