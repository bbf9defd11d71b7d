namespace TorrentEdge.Engine.Storage;

/// <summary>What is on disk for one torrent file: its size and last write time, or that it is missing.</summary>
public readonly record struct FileObservation(bool Exists, long Size, DateTime LastWriteUtc)
{
    public static FileObservation Missing => new(false, -1, default);
}
