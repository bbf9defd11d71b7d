using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Storage;

/// <summary>
/// Says whether this engine may still write or delete a torrent's files and resume data: a host that shares a download
/// folder between engines (PeerWorker replicas) fences one that lost the torrent to another. Asked right before every
/// piece write, file creation, file deletion and resume-data save or delete; may be called from any thread.
/// </summary>
public interface IStorageFence
{
    bool MayWrite(InfoHash infoHash);
}

/// <summary>A write or delete refused by the <see cref="IStorageFence"/>: another engine holds the torrent now.</summary>
public sealed class StorageFencedException(string message) : IOException(message);
