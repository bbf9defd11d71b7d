namespace TorrentEdge.Contracts.Torrents;

/// <summary>
/// The whole desired state of one torrent, published by Catalog to <see cref="Topics.TorrentSpecs"/> keyed by info-hash.
/// The latest spec per key is the truth (the topic is compacted); <see cref="Removed"/> ends the torrent.
/// </summary>
/// <param name="InfoHash">40 lower-case hex characters (v1 info-hash).</param>
/// <param name="Revision">Monotonic per torrent, so a worker can ignore an older spec it sees late.</param>
/// <param name="Metainfo">The .torrent bytes when small enough to travel inline; otherwise null and fetched from Catalog.</param>
/// <param name="MagnetUri">Set when the torrent was added by magnet and its metadata is not known yet.</param>
/// <param name="FilePriorities">One per file, in metainfo order; empty means all normal.</param>
/// <param name="RecheckGeneration">Bumped by each recheck request; a worker rechecks when it sees a higher one.</param>
public sealed record TorrentSpecChanged(
    string InfoHash,
    long Revision,
    string? Name,
    byte[]? Metainfo,
    bool MetainfoAvailable,
    string? MagnetUri,
    string? SavePath,
    bool Paused,
    TorrentPriority Priority,
    IReadOnlyList<FilePriority> FilePriorities,
    IReadOnlyList<string> Owners,
    int RecheckGeneration,
    bool Removed,
    bool DeleteData) : IntegrationEvent
{
    /// <summary>
    /// This torrent's message stream encryption policy, overriding the worker's (<c>PeerWorker:Encryption</c>); null: the
    /// worker's. Added after schema version 1 went out: older specs lack it and mean null.
    /// </summary>
    public PeerEncryption? Encryption { get; init; }
}

/// <summary>Message stream encryption with peers (MSE/PE): encrypted first with plaintext fallback, encrypted only, or plaintext only.</summary>
public enum PeerEncryption { Prefer = 0, Require = 1, Disable = 2 }

public enum TorrentPriority { Low = 0, Normal = 1, High = 2 }

public enum FilePriority { Skip = 0, Low = 1, Normal = 2, High = 3 }

/// <summary>The lifecycle states a torrent reports.</summary>
public enum TorrentState
{
    Queued,
    FetchingMetadata,
    Checking,
    Downloading,
    Seeding,
    Paused,
    Stopped,
    Error,
    Removed,
}
