using TorrentEdge.Engine.Storage;

namespace TorrentEdge.Engine.Tests.Storage;

/// <summary>A symbolic link planted in a torrent's folder is never followed out of it: opening through it is refused.</summary>
public sealed class SymlinkTests : IDisposable
{
    private readonly StorageTestData _data = new(16, ("a.bin", 16), ("dir/b.bin", 16));
    private readonly string _outside = Path.Combine(Path.GetTempPath(), "te-outside-" + Guid.NewGuid().ToString("N"));

    public SymlinkTests() => Directory.CreateDirectory(_outside);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Write_FileIsLinkToOutside_RefusedAndTargetUntouched()
    {
        var victim = Path.Combine(_outside, "victim.bin");
        await File.WriteAllTextAsync(victim, "precious", Ct);
        File.CreateSymbolicLink(Path.Combine(_data.Root, "a.bin"), victim);
        await using var storage = new TorrentStorage(_data.Layout, _data.Root);

        var e = Assert.Throws<IOException>(() => storage.Write(0, _data.Piece(0)));

        Assert.Contains("symbolic link", e.Message);
        Assert.Equal("precious", await File.ReadAllTextAsync(victim, Ct));
    }

    [Fact]
    public async Task Write_DirectoryIsLinkToOutside_RefusedAndNothingCreatedThere()
    {
        Directory.CreateSymbolicLink(Path.Combine(_data.Root, "dir"), _outside);
        await using var storage = new TorrentStorage(_data.Layout, _data.Root);

        Assert.Throws<IOException>(() => storage.Write(16, _data.Piece(1)));

        Assert.Empty(Directory.EnumerateFileSystemEntries(_outside));
    }

    [Fact]
    public async Task ReadAsync_FileIsLinkToOutside_Refused()
    {
        // A file outside that happens to hash right must still not be served from the torrent's folder.
        var secret = Path.Combine(_outside, "secret.bin");
        await File.WriteAllBytesAsync(secret, _data.Piece(0), Ct);
        File.CreateSymbolicLink(Path.Combine(_data.Root, "a.bin"), secret);
        await using var storage = new TorrentStorage(_data.Layout, _data.Root);

        await Assert.ThrowsAsync<IOException>(async () => await storage.ReadAsync(0, new byte[16], Ct));
        await Assert.ThrowsAsync<IOException>(async () => await storage.VerifyPieceOnDiskAsync(0, Ct));
    }

    [Fact]
    public async Task Write_RootIsLink_Allowed()
    {
        // The download folder itself may live elsewhere (a link to another disk).
        var linkedRoot = Path.Combine(Path.GetTempPath(), "te-linkroot-" + Guid.NewGuid().ToString("N"));
        Directory.CreateSymbolicLink(linkedRoot, _outside);
        try
        {
            await using var storage = new TorrentStorage(_data.Layout, linkedRoot);
            storage.Write(0, _data.Piece(0));
            await storage.FlushAsync(Ct);
            Assert.Equal(_data.Piece(0), await File.ReadAllBytesAsync(Path.Combine(_outside, "a.bin"), Ct));
        }
        finally
        {
            File.Delete(linkedRoot);
        }
    }

    public void Dispose()
    {
        _data.Dispose();
        Directory.Delete(_outside, recursive: true);
    }
}
