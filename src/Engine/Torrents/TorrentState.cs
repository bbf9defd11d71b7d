namespace TorrentEdge.Engine.Torrents;

/// <summary>Where a torrent is in its life.</summary>
public enum TorrentState
{
    /// <summary>Added, waiting for a slot in the queue.</summary>
    Queued,
    /// <summary>Started from a magnet link: fetching the info dictionary from peers (BEP 9).</summary>
    FetchingMetadata,
    /// <summary>Hashing the files on disk.</summary>
    Checking,
    Downloading,
    /// <summary>Has every piece and serves them.</summary>
    Seeding,
    /// <summary>Has every wanted piece (some files skipped) and serves what it has.</summary>
    Finished,
    Paused,
    /// <summary>Stopped because of an error (see the status' error text).</summary>
    Error,
    /// <summary>Removed from the engine.</summary>
    Removed,
}
