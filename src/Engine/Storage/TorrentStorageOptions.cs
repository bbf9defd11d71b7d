namespace TorrentEdge.Engine.Storage;

/// <summary>How <see cref="TorrentStorage"/> creates and keeps files.</summary>
public sealed record TorrentStorageOptions
{
    /// <summary>Set a new file to its full length at creation without writing zeros (sparse on file systems that support it).</summary>
    public bool SparseFiles { get; init; } = true;

    /// <summary>
    /// Write whole 4 KiB blocks with direct I/O (Linux O_DIRECT), past the page cache: it saves the kernel's
    /// copy into fresh cache pages, the largest CPU cost of a download (benchmarks/README.md), and keeps a
    /// large download from evicting what the cache holds for seeding. Files on file systems that refuse it
    /// are written as usual.
    /// </summary>
    public bool DirectWrites { get; init; } = true;

    /// <summary>Most file handles kept open at once; least recently used ones are closed beyond it.</summary>
    public int MaxOpenHandles { get; init; } = 32;

    /// <summary>
    /// The root directory belongs to this torrent (a multi-file torrent's folder), so
    /// <see cref="TorrentStorage.DeleteFilesAsync"/> removes it too when it ends up empty.
    /// </summary>
    public bool RootIsOwned { get; init; }

    /// <summary>
    /// Asked right before each write, file creation and deletion; false refuses it with <see cref="StorageFencedException"/>
    /// (the torrent's engine no longer holds it: <see cref="IStorageFence"/>). Null: always allowed.
    /// </summary>
    public Func<bool>? MayWrite { get; init; }

    public static TorrentStorageOptions Default { get; } = new();
}
