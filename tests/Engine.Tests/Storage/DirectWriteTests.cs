using Microsoft.Win32.SafeHandles;
using TorrentEdge.Engine.Storage;

namespace TorrentEdge.Engine.Tests.Storage;

/// <summary>
/// Direct (O_DIRECT) writes: whole 4 KiB blocks bypass the page cache, edges and refusals go through the
/// ordinary handle, and what is read back is always exactly what was written.
/// </summary>
public class DirectWriteTests
{
    private const int Block = DirectIo.Alignment;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Whether the file system under the test data takes direct I/O (ext4 and xfs do; tmpfs may not).</summary>
    private static bool FileSystemTakesDirectIo(string root)
    {
        var probe = Path.Combine(root, ".probe");
        using SafeFileHandle handle = File.OpenHandle(probe, FileMode.Create, FileAccess.ReadWrite);
        try
        {
            return DirectIo.TryEnable(handle);
        }
        finally
        {
            File.Delete(probe);
        }
    }

    private static async Task WritePiecesFromAlignedBuffersAsync(StorageTestData data, TorrentStorage storage)
    {
        for (var p = 0; p < data.Layout.PieceCount; p++)
        {
            var buffer = AlignedBufferPool.Shared.Rent(data.Layout.GetPieceLength(p));
            var piece = buffer.Memory[..data.Layout.GetPieceLength(p)];
            data.Piece(p).CopyTo(piece);
            await storage.WriteAsync(data.Layout.GetPieceOffset(p), piece, Ct);
            AlignedBufferPool.Shared.Return(buffer);
        }
    }

    [Fact]
    public async Task Write_SingleFile_WholeBlocksGoDirectAndTheTailThroughTheCache()
    {
        // 3 pieces of 64 KiB and a last piece of 1,234 bytes: too short for a direct write.
        using var data = new StorageTestData(64 * 1024, ("one.bin", 3 * 64 * 1024 + 1234));
        var direct = FileSystemTakesDirectIo(data.Root);
        await using var storage = new TorrentStorage(data.Layout, data.Root);

        await WritePiecesFromAlignedBuffersAsync(data, storage);

        Assert.Equal(direct ? 3 * 64 * 1024 : 0, storage.DirectBytesWritten);
        Assert.Equal(data.Content, File.ReadAllBytes(Path.Combine(data.Root, "one.bin")));
        Assert.True((await storage.RecheckAsync(null, 2, Ct)).AllTrue);
    }

    [Fact]
    public async Task Write_FilesStartingMidPiece_AlignedMiddlesGoDirectAndEveryByteLands()
    {
        // Odd sizes put each file's blocks at a different alignment in memory than on disk (the bounce copy),
        // and leave partial blocks at both edges of most segments.
        using var data = new StorageTestData(64 * 1024,
            ("a.bin", 5000), ("d/b.bin", 70_001), ("d/c.bin", 1), ("e.bin", 200_003), ("f.bin", 3 * Block));
        var direct = FileSystemTakesDirectIo(data.Root);
        await using var storage = new TorrentStorage(data.Layout, data.Root);

        await WritePiecesFromAlignedBuffersAsync(data, storage);

        if (direct) Assert.InRange(storage.DirectBytesWritten, 200_000, data.Content.Length);
        else Assert.Equal(0, storage.DirectBytesWritten);
        long at = 0;
        foreach (var file in data.Layout.Files)
        {
            Assert.Equal(data.Content.AsSpan((int)at, (int)file.Length).ToArray(), File.ReadAllBytes(Path.Combine(data.Root, file.RelativePath)));
            at += file.Length;
        }
        Assert.True((await storage.RecheckAsync(null, 2, Ct)).AllTrue);
    }

    [Fact]
    public async Task Write_FilesStartingMidPiece_PiecesShiftedByTheLayout_NoBounceCopyForTheirLargestSegment()
    {
        // Files at odd offsets: a piece laid out at GetDirectShift in its buffer writes its largest segment's pages
        // direct without the bounce copy; without the shift every piece's body is copied first.
        using var data = new StorageTestData(64 * 1024, ("a.bin", 5000), ("b.bin", 300_001), ("c.bin", 200_003));
        var direct = FileSystemTakesDirectIo(data.Root);
        await using var plain = new TorrentStorage(data.Layout, data.Root);
        await WritePiecesFromAlignedBuffersAsync(data, plain);
        var copiedPlain = plain.BounceBytesCopied;
        await plain.DisposeAsync();

        using var again = new StorageTestData(64 * 1024, ("a.bin", 5000), ("b.bin", 300_001), ("c.bin", 200_003));
        await using var storage = new TorrentStorage(again.Layout, again.Root);
        long largest = 0;
        for (var p = 0; p < again.Layout.PieceCount; p++)
        {
            var length = again.Layout.GetPieceLength(p);
            var buffer = AlignedBufferPool.Shared.Rent(length);
            var piece = buffer.Shifted(again.Layout.GetDirectShift(p), length);
            again.Piece(p).CopyTo(piece);
            storage.Write(again.Layout.GetPieceOffset(p), piece);
            AlignedBufferPool.Shared.Return(buffer);
            var biggest = 0;
            foreach (var s in again.Layout.Map(again.Layout.GetPieceOffset(p), length)) biggest = Math.Max(biggest, s.Length);
            largest += biggest;
        }

        if (direct)
        {
            Assert.True(copiedPlain > 400_000, $"copied {copiedPlain} without the shift");
            Assert.True(storage.BounceBytesCopied <= again.Content.Length - largest, $"copied {storage.BounceBytesCopied} with it");
        }
        long at = 0;
        foreach (var file in again.Layout.Files)
        {
            Assert.Equal(again.Content.AsSpan((int)at, (int)file.Length).ToArray(), File.ReadAllBytes(Path.Combine(again.Root, file.RelativePath)));
            at += file.Length;
        }
        Assert.True((await storage.RecheckAsync(null, 2, Ct)).AllTrue);
    }

    [Fact]
    public async Task Write_MemoryNotOnABoundary_IsCopiedAndStillWrittenDirect()
    {
        using var data = new StorageTestData(8 * Block, ("one.bin", 16 * Block));
        var direct = FileSystemTakesDirectIo(data.Root);
        await using var storage = new TorrentStorage(data.Layout, data.Root);
        var shifted = new byte[8 * Block + 1]; // the piece at offset 1: never 4 KiB aligned
        data.Piece(1).CopyTo(shifted.AsSpan(1));

        storage.Write(data.Layout.GetPieceOffset(1), shifted.AsSpan(1));

        Assert.Equal(direct ? 8 * Block : 0, storage.DirectBytesWritten);
        Assert.True(await storage.VerifyPieceOnDiskAsync(1, Ct));
    }

    [Fact]
    public async Task Write_DirectWritesOff_EverythingGoesThroughTheCache()
    {
        using var data = new StorageTestData(64 * 1024, ("one.bin", 4 * 64 * 1024));
        await using var storage = new TorrentStorage(data.Layout, data.Root, new TorrentStorageOptions { DirectWrites = false });

        await WritePiecesFromAlignedBuffersAsync(data, storage);

        Assert.Equal(0, storage.DirectBytesWritten);
        Assert.Equal(data.Content, File.ReadAllBytes(Path.Combine(data.Root, "one.bin")));
    }

    [Fact]
    public async Task Write_BufferedAndDirectOverTheSameBlocks_ReadBackIsTheLastWrite()
    {
        // Linux keeps the two paths coherent: a direct write drops cached pages of its range, and a buffered
        // write of part of a block reads the block the direct write put on disk.
        using var data = new StorageTestData(16 * Block, ("one.bin", 16 * Block));
        await using var storage = new TorrentStorage(data.Layout, data.Root);
        var expected = new byte[3 * Block];                                        // blocks 1-3 as zeros ...
        data.Content.AsSpan(Block + 10, 7).CopyTo(expected.AsSpan(10));            // ... but for 7 bytes of block 1

        await storage.WriteAsync(Block, new byte[3 * Block], Ct);                  // whole blocks: direct
        await storage.WriteAsync(Block + 10, data.Content.AsMemory(Block + 10, 7), Ct); // part of a block: buffered

        var read = new byte[3 * Block];
        Assert.Equal(read.Length, await storage.ReadAsync(Block, read, Ct));
        Assert.Equal(expected, read);
        await WritePiecesFromAlignedBuffersAsync(data, storage); // the whole piece again, direct over cached pages
        Assert.Equal(data.Content, File.ReadAllBytes(Path.Combine(data.Root, "one.bin")));
    }
}
