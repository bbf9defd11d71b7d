using TorrentEdge.Engine.Storage;

namespace TorrentEdge.Engine.Tests.Storage;

public class TorrentStorageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static StorageTestData OddFiles() =>
        new(16, ("a.bin", 5), ("empty1", 0), ("dir/b.bin", 30), ("dir/sub/empty2", 0), ("c.bin", 1), ("d.bin", 17));

    [Fact]
    public async Task WriteAsync_AcrossFileBoundaries_PutsBytesInEachFile()
    {
        using var data = OddFiles();
        await using var storage = new TorrentStorage(data.Layout, data.Root);

        await data.WriteAllAsync(storage, Ct);
        await storage.FlushAsync(Ct);

        Assert.Equal(data.Content[..5], File.ReadAllBytes(Path.Combine(data.Root, "a.bin")));
        Assert.Equal(data.Content[5..35], File.ReadAllBytes(Path.Combine(data.Root, "dir", "b.bin")));
        Assert.Equal(data.Content[35..36], File.ReadAllBytes(Path.Combine(data.Root, "c.bin")));
        Assert.Equal(data.Content[36..], File.ReadAllBytes(Path.Combine(data.Root, "d.bin")));
        Assert.Empty(File.ReadAllBytes(Path.Combine(data.Root, "empty1")));
        Assert.True(File.Exists(Path.Combine(data.Root, "dir", "sub", "empty2")));
    }

    [Fact]
    public async Task ReadAsync_AnyRange_ReturnsWrittenBytes()
    {
        using var data = OddFiles();
        await using var storage = new TorrentStorage(data.Layout, data.Root, new TorrentStorageOptions { MaxOpenHandles = 1 });
        await data.WriteAllAsync(storage, Ct);

        for (var start = 0; start < data.Content.Length; start += 3)
        {
            for (var length = 1; start + length <= data.Content.Length; length += 7)
            {
                var buffer = new byte[length];
                var read = await storage.ReadAsync(start, buffer, Ct);
                Assert.Equal(length, read);
                Assert.Equal(data.Content.AsSpan(start, length).ToArray(), buffer);
            }
        }
    }

    [Fact]
    public async Task WriteAsync_GatheredBuffers_WritesLikeOneBuffer()
    {
        using var data = OddFiles();
        await using var storage = new TorrentStorage(data.Layout, data.Root);
        var piece = data.Piece(0);
        ReadOnlyMemory<byte>[] blocks = [piece.AsMemory(0, 3), piece.AsMemory(3, 9), piece.AsMemory(12, 4)];

        await storage.WriteAsync(0, blocks, Ct);

        Assert.True(await storage.VerifyPieceOnDiskAsync(0, Ct));
    }

    [Fact]
    public async Task WriteAsync_ConcurrentWritersOneHandleAllowed_AllPiecesLand()
    {
        using var data = new StorageTestData(1000, Enumerable.Range(0, 13).Select(i => ($"d{i % 3}/f{i}", 777L + i * 131)).ToArray());
        await using var storage = new TorrentStorage(data.Layout, data.Root, new TorrentStorageOptions { MaxOpenHandles = 1 });

        await Parallel.ForAsync(0, data.Layout.PieceCount, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct },
            async (p, ct) =>
            {
                await storage.WriteAsync(data.Layout.GetPieceOffset(p), data.Piece(p), ct);
                Assert.True(await storage.VerifyPieceOnDiskAsync(p, ct));
            });

        Assert.True((await storage.RecheckAsync(null, 4, Ct)).AllTrue);
    }

    [Fact]
    public async Task ReadAsync_FileNotCreated_ReturnsShortCount()
    {
        using var data = OddFiles();
        await using var storage = new TorrentStorage(data.Layout, data.Root);
        await storage.WriteAsync(0, data.Content.AsMemory(0, 5), Ct);

        var buffer = new byte[16];
        var read = await storage.ReadAsync(0, buffer, Ct);

        Assert.Equal(5, read);
    }

    [Fact]
    public async Task WriteAsync_SparseOption_CreatesFullLengthFile()
    {
        using var data = OddFiles();
        await using var storage = new TorrentStorage(data.Layout, data.Root);

        await storage.WriteAsync(36, data.Content.AsMemory(36, 2), Ct);

        Assert.Equal(17, new FileInfo(Path.Combine(data.Root, "d.bin")).Length);
    }

    [Fact]
    public async Task WriteAsync_NotSparse_FileGrowsOnlyAsWritten()
    {
        using var data = OddFiles();
        await using var storage = new TorrentStorage(data.Layout, data.Root, new TorrentStorageOptions { SparseFiles = false });

        await storage.WriteAsync(36, data.Content.AsMemory(36, 2), Ct);

        Assert.Equal(2, new FileInfo(Path.Combine(data.Root, "d.bin")).Length);
    }

    [Fact]
    public async Task VerifyPiece_GoodAndBadData_MatchesHash()
    {
        using var data = OddFiles();
        await using var storage = new TorrentStorage(data.Layout, data.Root);
        var piece = data.Piece(1);

        Assert.True(storage.VerifyPiece(1, piece));
        piece[3] ^= 1;
        Assert.False(storage.VerifyPiece(1, piece));
        Assert.False(storage.VerifyPiece(1, data.Piece(1).AsSpan(1)));
        Assert.True(storage.VerifyPiece(3, data.Piece(3)));
    }

    [Fact]
    public async Task RecheckAsync_OneByteCorrupted_FindsExactlyTheGoodPieces()
    {
        using var data = OddFiles();
        await using (var writer = new TorrentStorage(data.Layout, data.Root))
            await data.WriteAllAsync(writer, Ct);
        // Byte 33 of the torrent lives in dir/b.bin at offset 28, inside piece 2.
        var path = Path.Combine(data.Root, "dir", "b.bin");
        var bytes = File.ReadAllBytes(path);
        bytes[28] ^= 0xFF;
        File.WriteAllBytes(path, bytes);

        await using var storage = new TorrentStorage(data.Layout, data.Root);
        var progress = new List<double>();
        var result = await storage.RecheckAsync(new SyncProgress(progress), parallelism: 2, Ct);

        Assert.Equal(data.Layout.PieceCount, result.Length);
        for (var p = 0; p < result.Length; p++) Assert.Equal(p != 2, result[p]);
        Assert.Equal(1.0, progress.Max());
    }

    [Fact]
    public async Task RecheckAsync_MissingMiddleFile_LaterPiecesStillGood()
    {
        using var data = new StorageTestData(4, ("a", 8), ("b", 8), ("c", 8));
        await using (var writer = new TorrentStorage(data.Layout, data.Root))
            await data.WriteAllAsync(writer, Ct);
        File.Delete(Path.Combine(data.Root, "b"));

        await using var storage = new TorrentStorage(data.Layout, data.Root);
        var result = await storage.RecheckAsync(null, 1, Ct);

        Assert.Equal([true, true, false, false, true, true], Enumerable.Range(0, 6).Select(p => result[p]));
    }

    [Fact]
    public async Task RecheckAsync_ManyPiecesInParallel_AllGood()
    {
        using var data = new StorageTestData(1024, ("a", 300_001), ("b", 1), ("c", 5_000_000));
        await using var storage = new TorrentStorage(data.Layout, data.Root);
        await storage.WriteAsync(0, data.Content, Ct);

        var result = await storage.RecheckAsync(null, 4, Ct);

        Assert.True(result.AllTrue);
    }

    [Fact]
    public async Task RecheckAsync_PiecesLargerThanReadChunk_FindsCorruptAndMissing()
    {
        using var data = new StorageTestData(512 * 1024, ("a", 700_000), ("b", 300_000), ("c", 1_200_000));
        await using (var writer = new TorrentStorage(data.Layout, data.Root))
            await data.WriteAllAsync(writer, Ct);
        using (var handle = File.OpenHandle(Path.Combine(data.Root, "c"), FileMode.Open, FileAccess.ReadWrite))
            RandomAccess.Write(handle, new byte[] { (byte)~data.Content[1_800_000] }, 800_000); // piece 3
        File.Delete(Path.Combine(data.Root, "b")); // bytes 700000..999999: piece 1

        await using var storage = new TorrentStorage(data.Layout, data.Root);
        var result = await storage.RecheckAsync(null, 2, Ct);

        Assert.Equal([true, false, true, false, true], Enumerable.Range(0, 5).Select(p => result[p]));
    }

    [Theory]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    [InlineData(false, 1)]
    [InlineData(false, 2)]
    public async Task RecheckAsync_SeveralBatchesWithMissingShortAndCorrupt_FindsExactlyTheGoodPieces(bool readAhead, int parallelism)
    {
        // 256 KiB pieces: 16 per 4 MiB batch, 37 pieces, so three batches and straddling pieces.
        const int pieceLength = 256 * 1024;
        using var data = new StorageTestData(pieceLength, ("a", 3_000_000), ("b", 2_500_000), ("c", 4_000_001), ("d", 1));
        await using (var writer = new TorrentStorage(data.Layout, data.Root))
            await data.WriteAllAsync(writer, Ct);
        File.Delete(Path.Combine(data.Root, "b")); // bytes 3,000,000..5,499,999
        using (var handle = File.OpenHandle(Path.Combine(data.Root, "c"), FileMode.Open, FileAccess.ReadWrite))
            RandomAccess.SetLength(handle, 3_000_000); // bytes 8,500,000..9,500,000 gone
        using (var handle = File.OpenHandle(Path.Combine(data.Root, "a"), FileMode.Open, FileAccess.ReadWrite))
            RandomAccess.Write(handle, new byte[] { (byte)~data.Content[1_000_000] }, 1_000_000); // piece 3

        await using var storage = new TorrentStorage(data.Layout, data.Root);
        var progress = new List<double>();
        var result = await storage.RecheckAsync(new SyncProgress(progress), parallelism, readAhead, Ct);

        static bool Overlaps(long start, long end, long from, long to) => start < to && from < end;
        Assert.Equal(37, result.Length);
        for (var p = 0; p < result.Length; p++)
        {
            long start = (long)p * pieceLength, end = start + data.Layout.GetPieceLength(p);
            var expected = !Overlaps(start, end, 3_000_000, 5_500_000) && !Overlaps(start, end, 8_500_000, 9_500_002)
                && !Overlaps(start, end, 1_000_000, 1_000_001);
            Assert.True(expected == result[p], $"piece {p}: expected {expected}");
        }
        Assert.Equal(1.0, progress.Max());
    }

    [Fact]
    public async Task RecheckAsync_ReadAheadCancelled_Throws()
    {
        using var data = new StorageTestData(256 * 1024, ("a", 9_000_000));
        await using var storage = new TorrentStorage(data.Layout, data.Root);
        await storage.WriteAsync(0, data.Content, Ct);
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await storage.RecheckAsync(null, 1, readAhead: true, cts.Token));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("a/../../escape")]
    [InlineData("/etc/passwd")]
    [InlineData("a/..")]
    [InlineData("")]
    public void Constructor_PathEscapingRoot_Throws(string path)
    {
        var layout = new StorageLayout([new StorageFile(path, 1)], 16, new byte[20]);
        Assert.Throws<ArgumentException>(() => new TorrentStorage(layout, Path.GetTempPath()));
    }

    [Fact]
    public void ResolveUnderRoot_SiblingWithRootPrefix_Throws()
    {
        var root = Path.Combine(Path.GetTempPath(), "abc");
        Assert.Throws<ArgumentException>(() => TorrentStorage.ResolveUnderRoot(root, "../abcdef/x"));
        Assert.Equal(Path.Combine(root, "d", "x"), TorrentStorage.ResolveUnderRoot(root, "d/./x"));
    }

    [Fact]
    public async Task DeleteFilesAsync_SharedDirectory_RemovesOnlyThisTorrentsFiles()
    {
        using var data = OddFiles();
        var foreign = Path.Combine(data.Root, "dir", "not-ours.txt");
        await using var storage = new TorrentStorage(data.Layout, data.Root);
        await data.WriteAllAsync(storage, Ct);
        File.WriteAllText(foreign, "keep");

        await storage.DeleteFilesAsync(Ct);

        Assert.True(File.Exists(foreign));
        Assert.False(File.Exists(Path.Combine(data.Root, "dir", "b.bin")));
        Assert.False(Directory.Exists(Path.Combine(data.Root, "dir", "sub")));
        Assert.Equal([foreign], Directory.EnumerateFileSystemEntries(data.Root, "*", SearchOption.AllDirectories).Where(File.Exists));
        Assert.True(Directory.Exists(data.Root));
    }

    [Fact]
    public async Task DeleteFilesAsync_OwnedRoot_RemovesRootWhenEmpty()
    {
        using var data = OddFiles();
        var root = Path.Combine(data.Root, "torrent");
        await using var storage = new TorrentStorage(data.Layout, root, new TorrentStorageOptions { RootIsOwned = true });
        await data.WriteAllAsync(storage, Ct);

        await storage.DeleteFilesAsync(Ct);

        Assert.False(Directory.Exists(root));
        Assert.True(Directory.Exists(data.Root));
    }

    [Fact]
    public async Task SetSkipped_EdgePieceOfWantedFile_SkippedFileNotCreatedButPieceVerifies()
    {
        using var data = OddFiles();
        await using var storage = new TorrentStorage(data.Layout, data.Root);
        storage.SetSkipped(2, true); // dir/b.bin

        await storage.WriteAsync(0, data.Piece(0), Ct); // a.bin + the head of dir/b.bin

        Assert.False(File.Exists(Path.Combine(data.Root, "dir", "b.bin")));
        Assert.True(await storage.VerifyPieceOnDiskAsync(0, Ct));
        Assert.Equal(data.Content[..5], File.ReadAllBytes(Path.Combine(data.Root, "a.bin")));

        storage.SetSkipped(2, false);
        Assert.True(await storage.VerifyPieceOnDiskAsync(0, Ct));
        Assert.True(File.Exists(Path.Combine(data.Root, "dir", "b.bin")));
        Assert.Empty(Directory.GetFiles(Path.Combine(data.Root, "dir"), "*.tepart"));
    }

    [Fact]
    public async Task SetSkipped_SkippedZeroLengthFile_NotCreated()
    {
        using var data = OddFiles();
        await using var storage = new TorrentStorage(data.Layout, data.Root);
        storage.SetSkipped(1, true);

        await storage.WriteAsync(0, data.Piece(0), Ct);

        Assert.False(File.Exists(Path.Combine(data.Root, "empty1")));
        Assert.True(File.Exists(Path.Combine(data.Root, "dir", "sub", "empty2")));
    }

    [Fact]
    public async Task ObserveFiles_AfterWrites_ReportsSizesAndMissing()
    {
        using var data = OddFiles();
        await using var storage = new TorrentStorage(data.Layout, data.Root);
        await storage.WriteAsync(0, data.Content.AsMemory(0, 3), Ct);

        var observed = storage.ObserveFiles();

        Assert.Equal(5, observed[0].Size);
        Assert.True(observed[1].Exists);
        Assert.False(observed[2].Exists);
    }

    private sealed class SyncProgress(List<double> values) : IProgress<double>
    {
        public void Report(double value)
        {
            lock (values) values.Add(value);
        }
    }
}

public class TorrentStoragePaddingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task WriteAsync_PaddingFile_NeverCreatedAndReadsAsZeros()
    {
        // BEP 47 aligns "b" to a piece boundary with a padding file full of zeros.
        using var data = new StorageTestData(8, ("t/a", 5), (".pad/3", 3), ("t/b", 8));
        data.Content.AsSpan(5, 3).Clear();
        var layout = new StorageTestDataLayout(data).Layout;
        await using var padded = new TorrentStorage(layout, data.Root);

        await padded.WriteAsync(0, data.Content, Ct);
        var read = new byte[16];
        read.AsSpan().Fill(0xAA);
        Assert.Equal(16, await padded.ReadAsync(0, read, Ct));

        Assert.Equal(data.Content, read);
        Assert.False(Directory.Exists(Path.Combine(data.Root, ".pad")));
        Assert.True((await padded.RecheckAsync(null, 1, Ct)).AllTrue);
        Assert.False(padded.ObserveFiles()[1].Exists);
    }

    /// <summary>Rebuilds the layout with the padding flag and hashes of the (zero-padded) content.</summary>
    private sealed class StorageTestDataLayout(StorageTestData data)
    {
        public StorageLayout Layout { get; } = Build(data);

        private static StorageLayout Build(StorageTestData data)
        {
            var l = data.Layout;
            var hashes = new byte[l.PieceCount * 20];
            for (var p = 0; p < l.PieceCount; p++)
                System.Security.Cryptography.SHA1.HashData(data.Content.AsSpan((int)l.GetPieceOffset(p), l.GetPieceLength(p)), hashes.AsSpan(p * 20));
            return new StorageLayout(l.Files.Select(f => f with { IsPadding = f.RelativePath.StartsWith(".pad/", StringComparison.Ordinal) }).ToArray(),
                l.PieceLength, hashes);
        }
    }
}

public class TorrentStorageLifetimeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task FlushAsync_AfterDispose_DoesNothing()
    {
        using var data = new StorageTestData(8, ("a", 8));
        var storage = new TorrentStorage(data.Layout, data.Root);
        await storage.WriteAsync(0, data.Content, Ct);
        await storage.DisposeAsync();

        await storage.FlushAsync(Ct);

        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await storage.WriteAsync(0, data.Content, Ct));
    }
}

public class TorrentStorageDeleteTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DeleteFilesAsync_NothingWrittenRootMissing_DoesNotThrow()
    {
        using var data = new StorageTestData(8, ("t/x/a", 8), ("t/b", 3));
        await using var storage = new TorrentStorage(data.Layout, Path.Combine(data.Root, "missing"));

        await storage.DeleteFilesAsync(Ct);

        Assert.False(Directory.Exists(Path.Combine(data.Root, "missing")));
    }

    [Fact]
    public async Task DeleteFilesAsync_ThenWriteAgain_RecreatesFiles()
    {
        using var data = new StorageTestData(8, ("t/a", 8), ("t/empty", 0));
        await using var storage = new TorrentStorage(data.Layout, data.Root);
        await storage.WriteAsync(0, data.Content, Ct);
        await storage.DeleteFilesAsync(Ct);
        Assert.False(Directory.Exists(Path.Combine(data.Root, "t")));

        await storage.WriteAsync(0, data.Content, Ct);

        Assert.True(await storage.VerifyPieceOnDiskAsync(0, Ct));
        Assert.True(File.Exists(Path.Combine(data.Root, "t", "empty")));
    }
}
