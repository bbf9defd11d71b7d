using System.Security.Cryptography;
using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Creation;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Tests.Creation;

public sealed class TorrentCreatorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("te-create-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static byte[] RandomBytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Fact]
    public async Task CreateAsync_Folder_ParsesAndPiecesVerify()
    {
        var content = Path.Combine(_dir, "content");
        Directory.CreateDirectory(Path.Combine(content, "sub"));
        var files = new (string Rel, byte[] Data)[]
        {
            ("b.bin", RandomBytes(50_000, 1)),
            ("a.bin", RandomBytes(16_384, 2)),
            ("sub/c.bin", RandomBytes(1, 3)),
            ("empty.txt", []),
        };
        foreach (var (rel, data) in files) await File.WriteAllBytesAsync(Path.Combine(content, rel), data, TestContext.Current.CancellationToken);

        var time = new FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        var bytes = await TorrentCreator.CreateAsync(content, new TorrentCreatorOptions
        {
            PieceLength = 16384,
            AnnounceTiers = [["http://a/announce", "http://b/announce"], ["udp://c:1/announce"]],
            IsPrivate = true,
            Comment = "test",
            TimeProvider = time,
        }, TestContext.Current.CancellationToken);

        var m = TorrentMetainfo.Parse(bytes);
        Assert.Equal("content", m.Name);
        Assert.Equal(["content/a.bin", "content/b.bin", "content/empty.txt", "content/sub/c.bin"], m.Files.Select(f => f.Path));
        Assert.True(m.IsPrivate);
        Assert.Equal("TorrentEdge", m.CreatedBy);
        Assert.Equal("test", m.Comment);
        Assert.Equal(time.GetUtcNow(), m.CreationDate);
        Assert.Equal(2, m.AnnounceTiers.Count);

        var stream = files.OrderBy(f => f.Rel, StringComparer.Ordinal).SelectMany(f => f.Data).ToArray();
        Assert.Equal(stream.Length, m.TotalLength);
        for (var i = 0; i < m.PieceCount; i++)
        {
            var piece = stream.AsSpan(i * m.PieceLength, m.GetPieceLength(i));
            Assert.Equal(SHA1.HashData(piece), m.GetPieceHash(i).ToArray());
        }
    }

    [Fact]
    public async Task CreateAsync_SingleFile_UsesLengthAndAutoPieceLength()
    {
        var file = Path.Combine(_dir, "one.dat");
        var data = RandomBytes(100_000, 4);
        await File.WriteAllBytesAsync(file, data, TestContext.Current.CancellationToken);
        var m = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(file, cancellationToken: TestContext.Current.CancellationToken));
        Assert.False(m.IsMultiFile);
        Assert.Equal("one.dat", m.Name);
        Assert.Equal(16384, m.PieceLength);
        Assert.Equal(SHA1.HashData(data.AsSpan(6 * 16384)), m.GetPieceHash(6).ToArray());
        Assert.Empty(m.AnnounceTiers);
        Assert.False(m.IsPrivate);
    }

    [Theory]
    [InlineData(1L, 16384)]
    [InlineData(1L << 30, 1 << 20)]
    [InlineData(1L << 40, 16 << 20)]
    public void ChoosePieceLength_Size_ReturnsPowerOfTwoInRange(long total, int expected)
        => Assert.Equal(expected, TorrentCreator.ChoosePieceLength(total));

    [Fact]
    public async Task CreateAsync_BadPieceLength_Throws()
    {
        var file = Path.Combine(_dir, "x");
        await File.WriteAllBytesAsync(file, [1], TestContext.Current.CancellationToken);
        await Assert.ThrowsAsync<ArgumentException>(async () => await TorrentCreator.CreateAsync(file, new TorrentCreatorOptions { PieceLength = 20000 }, TestContext.Current.CancellationToken));
    }
}
