namespace TorrentEdge.Engine.Storage;

/// <summary>How <see cref="TorrentStorage"/> creates and keeps files.</summary>
public sealed record TorrentStorageOptions
{
    /// <summary>Set a new file to its full length at creation without writing zeros (sparse on file systems that support it).</summary>
    public bool SparseFiles { get; init; } = true;

    /// <summary>Most file handles kept open at once; least recently used ones are closed beyond it.</summary>
    public int MaxOpenHandles { get; init; } = 32;

    /// <summary>
    /// The root directory belongs to this torrent (a multi-file torrent's folder), so
    /// <see cref="TorrentStorage.DeleteFilesAsync"/> removes it too when it ends up empty.
    /// </summary>
    public bool RootIsOwned { get; init; }

    public static TorrentStorageOptions Default { get; } = new();
}
