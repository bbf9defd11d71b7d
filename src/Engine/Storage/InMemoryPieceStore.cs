using System.Collections.Concurrent;
using System.Security.Cryptography;
using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Storage;

/// <summary>
/// A torrent's bytes in one array (torrents up to 2 GiB): engines that run in memory, with no disk and no sockets, in
/// tests. A file "exists" once a byte of it was written or preloaded.
/// </summary>
public sealed class InMemoryPieceStore : IPieceStore
{
    private readonly byte[] _data;
    private readonly int[] _fileWrites;
    private long _version;

    public InMemoryPieceStore(StorageLayout layout)
    {
        ArgumentNullException.ThrowIfNull(layout);
        if (layout.TotalLength > Array.MaxLength) throw new ArgumentException("An in-memory store holds at most 2 GiB.", nameof(layout));
        Layout = layout;
        _data = new byte[layout.TotalLength];
        _fileWrites = new int[layout.Files.Count];
    }

    public StorageLayout Layout { get; }

    /// <summary>The bytes as they are now (for comparing with what was seeded).</summary>
    public ReadOnlySpan<byte> Contents => _data;

    /// <summary>Puts the whole torrent in place, as a seeder's files would be.</summary>
    public void Preload(ReadOnlySpan<byte> data)
    {
        if (data.Length != _data.Length) throw new ArgumentException("The torrent's length.", nameof(data));
        Write(0, data);
    }

    public void SetSkipped(int fileIndex, bool skipped)
    {
        // Nothing is created for a file in memory, so skipping changes nothing here.
    }

    public bool VerifyPiece(int piece, ReadOnlySpan<byte> data)
    {
        if (data.Length != Layout.GetPieceLength(piece)) return false;
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(data, hash);
        return hash.SequenceEqual(Layout.GetPieceHash(piece));
    }

    public void Write(long torrentOffset, ReadOnlySpan<byte> data)
    {
        data.CopyTo(_data.AsSpan((int)torrentOffset));
        foreach (var segment in Layout.Map(torrentOffset, data.Length)) Interlocked.Increment(ref _fileWrites[segment.FileIndex]);
        Interlocked.Increment(ref _version);
    }

    public ValueTask<int> ReadAsync(long torrentOffset, Memory<byte> destination, CancellationToken cancellationToken)
    {
        var n = (int)Math.Clamp(_data.Length - torrentOffset, 0, destination.Length);
        _data.AsSpan((int)torrentOffset, n).CopyTo(destination.Span);
        return ValueTask.FromResult(n);
    }

    public ValueTask<bool> VerifyPieceOnDiskAsync(int piece, CancellationToken cancellationToken) =>
        ValueTask.FromResult(VerifyPiece(piece, _data.AsSpan((int)Layout.GetPieceOffset(piece), Layout.GetPieceLength(piece))));

    public ValueTask<BitField> RecheckAsync(IProgress<double>? progress, int parallelism, CancellationToken cancellationToken)
    {
        var have = new BitField(Layout.PieceCount);
        for (var p = 0; p < Layout.PieceCount; p++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            have[p] = VerifyPiece(p, _data.AsSpan((int)Layout.GetPieceOffset(p), Layout.GetPieceLength(p)));
        }
        progress?.Report(1);
        return ValueTask.FromResult(have);
    }

    public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public FileObservation[] ObserveFiles()
    {
        // The write count stands in for a modification time: the trust rule only compares it with what was saved.
        var time = DateTime.UnixEpoch.AddTicks(Interlocked.Read(ref _version));
        var result = new FileObservation[Layout.Files.Count];
        for (var i = 0; i < result.Length; i++)
            result[i] = Layout.Files[i].IsPadding || Volatile.Read(ref _fileWrites[i]) == 0 && Layout.Files[i].Length > 0
                ? FileObservation.Missing
                : new FileObservation(true, Layout.Files[i].Length, time);
        return result;
    }

    public ValueTask DeleteFilesAsync(CancellationToken cancellationToken)
    {
        Array.Clear(_data);
        Array.Clear(_fileWrites);
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// Keeps one <see cref="InMemoryPieceStore"/> per torrent and save path, so a store outlives its torrent (stop and add
/// again resumes, as files would) and a test can preload a seeder and read back what a leecher got.
/// </summary>
public sealed class InMemoryPieceStoreFactory : IPieceStoreFactory
{
    private readonly ConcurrentDictionary<string, InMemoryPieceStore> _stores = new();

    /// <remarks>Memory is private to this engine, so there is nothing to fence: <paramref name="mayWrite"/> is not asked.</remarks>
    public IPieceStore Open(StorageLayout layout, string savePath, Func<bool>? mayWrite = null) =>
        _stores.GetOrAdd(Key(layout, savePath), _ => new InMemoryPieceStore(layout));

    /// <summary>The store of <paramref name="metainfo"/> under <paramref name="savePath"/>, made when missing.</summary>
    public InMemoryPieceStore Get(TorrentMetainfo metainfo, string savePath)
    {
        var layout = StorageLayout.FromMetainfo(metainfo);
        return (InMemoryPieceStore)Open(layout, savePath);
    }

    // The piece hashes name the torrent's content; the engine passes save paths already made absolute.
    private static string Key(StorageLayout layout, string savePath) =>
        Path.GetFullPath(savePath) + "|" + Convert.ToHexString(SHA1.HashData(layout.PieceHashes.Span));
}
