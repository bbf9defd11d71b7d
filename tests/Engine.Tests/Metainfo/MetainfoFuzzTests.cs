using CsCheck;
using TorrentEdge.Engine.Bencoding;
using TorrentEdge.Engine.Magnet;
using TorrentEdge.Engine.Metainfo;
using static TorrentEdge.Engine.Tests.Metainfo.TestTorrents;

namespace TorrentEdge.Engine.Tests.Metainfo;

public class MetainfoFuzzTests
{
    private static readonly byte[] Valid = Torrent(
        MultiFileInfo("dir", 16384, (["a", "b.txt"], 20000), (["c"], 5)),
        "http://t/announce",
        new BList { new BList { new BString("udp://x:1/announce") } });

    [Fact]
    public void Parse_MutatedTorrent_ReturnsMetainfoOrMetainfoException()
    {
        Gen.Select(Gen.Int[0, Valid.Length - 1], Gen.Byte, Gen.Int[0, 2]).Sample((at, b, mode) =>
        {
            byte[] mutated = mode switch
            {
                0 => Valid[..at],
                1 => [.. Valid[..at], b, .. Valid[at..]],
                _ => [.. Valid[..at], b, .. Valid[(at + 1)..]],
            };
            try
            {
                var m = TorrentMetainfo.Parse(mutated);
                Assert.Equal(m.PieceCount, (int)((m.TotalLength + m.PieceLength - 1) / m.PieceLength));
                Assert.All(m.Files, f => Assert.True(PathSanitizer.TryResolveUnderRoot("/tmp/root", f.Path, out _)));
            }
            catch (MetainfoException)
            {
            }
        }, iter: 5000);
    }

    [Fact]
    public void TryParse_RandomMagnetText_NeverThrows()
    {
        var chars = Gen.Char["magnet:?xt=urn:btih&%0123456789abcdefABCDEF.[]:/"];
        Gen.String[chars, 0, 120].Sample(s =>
        {
            MagnetLink.TryParse(s, out _, out _);
            MagnetLink.TryParse("magnet:?xt=urn:btih:" + new string('a', 40) + "&" + s, out _, out _);
        }, iter: 5000);
    }

    [Fact]
    public void SanitizeSegment_RandomText_IsSafe()
    {
        Gen.String[Gen.Char, 0, 300].Sample(s =>
        {
            var r = PathSanitizer.SanitizeSegment(s);
            Assert.NotEqual(string.Empty, r);
            Assert.NotEqual(".", r);
            Assert.NotEqual("..", r);
            Assert.DoesNotContain('/', r);
            Assert.DoesNotContain('\\', r);
            Assert.DoesNotContain('\0', r);
            Assert.True(System.Text.Encoding.UTF8.GetByteCount(r) <= PathSanitizer.MaxSegmentBytes);
            Assert.True(PathSanitizer.TryResolveUnderRoot("/tmp/root", r, out _));
        }, iter: 5000);
    }
}
