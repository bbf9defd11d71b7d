using TorrentEdge.Engine.Storage;

namespace TorrentEdge.Engine.Tests.Storage;

/// <summary>A fenced storage (its engine lost the torrent to another) writes, creates and deletes nothing.</summary>
public class StorageFenceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static StorageTestData TwoFiles() => new(16, ("a.bin", 20), ("dir/b.bin", 30));

    [Fact]
    public async Task Write_Fenced_ThrowsAndLeavesNoFile()
    {
        using var data = TwoFiles();
        await using var storage = new TorrentStorage(data.Layout, data.Root, new TorrentStorageOptions { MayWrite = () => false });

        Assert.Throws<StorageFencedException>(() => storage.Write(0, data.Piece(0)));
        await Assert.ThrowsAsync<StorageFencedException>(async () => await storage.WriteAsync(16, data.Piece(1), Ct));

        Assert.False(File.Exists(Path.Combine(data.Root, "a.bin")));
        Assert.False(File.Exists(Path.Combine(data.Root, "dir", "b.bin")));
    }

    [Fact]
    public async Task Write_FencedAfterSomeWrites_KeepsTheBytesWrittenBeforeAndAddsNone()
    {
        using var data = TwoFiles();
        var mayWrite = true;
        await using var storage = new TorrentStorage(data.Layout, data.Root, new TorrentStorageOptions { MayWrite = () => Volatile.Read(ref mayWrite) });
        storage.Write(0, data.Piece(0));
        await storage.FlushAsync(Ct);
        var before = File.ReadAllBytes(Path.Combine(data.Root, "a.bin"));

        Volatile.Write(ref mayWrite, false);

        Assert.Throws<StorageFencedException>(() => storage.Write(16, data.Piece(1)));
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(data.Root, "a.bin")));
        // b.bin may exist at its length (sparse files are created up front), but none of piece 1's bytes are in it.
        var b = Path.Combine(data.Root, "dir", "b.bin");
        Assert.True(!File.Exists(b) || File.ReadAllBytes(b).All(x => x == 0));
    }

    [Fact]
    public async Task DeleteFiles_Fenced_ThrowsAndKeepsTheFiles()
    {
        using var data = TwoFiles();
        var mayWrite = true;
        await using var storage = new TorrentStorage(data.Layout, data.Root, new TorrentStorageOptions { MayWrite = () => Volatile.Read(ref mayWrite) });
        await data.WriteAllAsync(storage, Ct);
        await storage.FlushAsync(Ct);

        Volatile.Write(ref mayWrite, false);

        await Assert.ThrowsAsync<StorageFencedException>(async () => await storage.DeleteFilesAsync(Ct));
        Assert.True(File.Exists(Path.Combine(data.Root, "a.bin")));
        Assert.True(File.Exists(Path.Combine(data.Root, "dir", "b.bin")));
    }
}
