using TorrentEdge.Engine.Common;

namespace TorrentEdge.Engine.Storage;

/// <summary>
/// Where a torrent's bytes live, addressed as one run of bytes across its files (the torrent's offsets): what the
/// torrent loop hashes pieces into, serves blocks from and checks at start. <see cref="TorrentStorage"/> keeps them in
/// files; <see cref="InMemoryPieceStore"/> in memory, for tests and for engines that must not touch a disk.
/// </summary>
/// <remarks>
/// Writes and reads come from the thread pool (hashing, upload tasks), never from the loop. A short read
/// (<see cref="ReadAsync"/> returning less than asked) means the bytes changed under us: the torrent rechecks the piece.
/// </remarks>
public interface IPieceStore : IAsyncDisposable
{
    /// <summary>The files, piece length and piece hashes.</summary>
    StorageLayout Layout { get; }

    /// <summary>A skipped file is not created; bytes of its pieces that fall into it go to a side part file, or nowhere.</summary>
    void SetSkipped(int fileIndex, bool skipped);

    /// <summary>Whether <paramref name="data"/> is piece <paramref name="piece"/> (length and SHA-1).</summary>
    bool VerifyPiece(int piece, ReadOnlySpan<byte> data);

    /// <summary>Writes verified bytes at a torrent offset.</summary>
    void Write(long torrentOffset, ReadOnlySpan<byte> data);

    /// <summary>Reads at a torrent offset; returns the bytes read, fewer when a file is shorter than the layout says.</summary>
    ValueTask<int> ReadAsync(long torrentOffset, Memory<byte> destination, CancellationToken cancellationToken);

    /// <summary>Reads piece <paramref name="piece"/> back from the store and checks its hash.</summary>
    ValueTask<bool> VerifyPieceOnDiskAsync(int piece, CancellationToken cancellationToken);

    /// <summary>Hashes every piece in the store; returns those that match.</summary>
    ValueTask<BitField> RecheckAsync(IProgress<double>? progress, int parallelism, CancellationToken cancellationToken);

    /// <summary>Makes what was written durable (before resume data records it).</summary>
    ValueTask FlushAsync(CancellationToken cancellationToken);

    /// <summary>Each file's existence, size and last write time, for the resume-data trust rule.</summary>
    FileObservation[] ObserveFiles();

    /// <summary>Deletes the torrent's files.</summary>
    ValueTask DeleteFilesAsync(CancellationToken cancellationToken);
}

/// <summary>Opens the <see cref="IPieceStore"/> of a torrent; set through <see cref="EngineOptions.PieceStores"/>.</summary>
public interface IPieceStoreFactory
{
    /// <summary>
    /// The store for a torrent of <paramref name="layout"/> whose name (file or folder) is created in
    /// <paramref name="savePath"/>. <paramref name="mayWrite"/>, when given, is asked before every write, file creation
    /// and delete (the engine's <see cref="IStorageFence"/>); a store refuses with <see cref="StorageFencedException"/>.
    /// </summary>
    IPieceStore Open(StorageLayout layout, string savePath, Func<bool>? mayWrite = null);
}

/// <summary>Files on disk (<see cref="TorrentStorage"/>): the default.</summary>
public sealed class FilePieceStoreFactory(TorrentStorageOptions? options = null) : IPieceStoreFactory
{
    public IPieceStore Open(StorageLayout layout, string savePath, Func<bool>? mayWrite = null) =>
        new TorrentStorage(layout, savePath, (options ?? TorrentStorageOptions.Default) with { MayWrite = mayWrite });
}
