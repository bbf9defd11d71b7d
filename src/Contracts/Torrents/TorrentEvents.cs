using System.Text.Json.Serialization;

namespace TorrentEdge.Contracts.Torrents;

// What actually happens to torrents, published by PeerWorker to Topics.TorrentEvents keyed by info-hash.
// Every event carries the owners (user ids) so Notifier can route it to per-user groups without a lookup.

/// <summary>Common shape of every torrent event.</summary>
public abstract record TorrentEvent(string InfoHash, IReadOnlyList<string> Owners) : IntegrationEvent
{
    /// <summary>
    /// Order of this torrent's events, assigned by the worker that owns the torrent and growing across owners (0: not
    /// assigned, from a worker before sequences). Consumers order by it, not by <see cref="IntegrationEvent.OccurredAt"/>:
    /// wall clocks of two workers disagree. Gaps are normal.
    /// </summary>
    public long Sequence { get; init; }
}

/// <summary>A worker took the torrent on.</summary>
public sealed record TorrentAdded(string InfoHash, IReadOnlyList<string> Owners, string? Name, long TotalBytes, string WorkerId)
    : TorrentEvent(InfoHash, Owners);

/// <summary>A magnet torrent's metadata arrived from the swarm; Catalog stores <paramref name="Metainfo"/>.</summary>
public sealed record TorrentMetadataReceived(string InfoHash, IReadOnlyList<string> Owners, string Name, long TotalBytes, int FileCount, byte[] Metainfo)
    : TorrentEvent(InfoHash, Owners);

/// <summary>Progress, published at most once a second per torrent.</summary>
public sealed record TorrentProgressed(
    string InfoHash,
    IReadOnlyList<string> Owners,
    TorrentState State,
    double Progress,
    long VerifiedBytes,
    long TotalBytes,
    long DownloadedBytes,
    long UploadedBytes,
    long DownloadRate,
    long UploadRate,
    int PeersConnected,
    int PeersTotal,
    long? EtaSeconds,
    IReadOnlyList<FileProgress> Files,
    IReadOnlyList<TrackerStatus> Trackers) : TorrentEvent(InfoHash, Owners)
{
    /// <summary>The torrent's display name (schema 1 producers left it out: null).</summary>
    public string? Name { get; init; }

    /// <summary>
    /// The connected peers with the most traffic, at most the worker's <c>StatusPeers</c> of them (null: a producer before
    /// peer lists; empty: none connected).
    /// </summary>
    public IReadOnlyList<PeerStatus>? Peers { get; init; }

    /// <summary>
    /// The pieces the worker has, as a BitTorrent bitfield (piece 0 in the high bit of byte 0, base64 in JSON), sent only
    /// when it changed and at most once per the worker's <c>PieceMapInterval</c>: null means "as last sent".
    /// </summary>
    public byte[]? PieceBitfield { get; init; }

    /// <summary>The number of pieces <see cref="PieceBitfield"/> covers (0 until the metadata is known).</summary>
    public int PieceCount { get; init; }

    // For System.Text.Json only: it fills the properties through their init setters. With the 15-parameter constructor
    // it collects every value boxed first and calls the constructor through an array, the costlier path (a progress
    // event is the bulk of what consumers read). A property missing from the JSON keeps its default either way.
    [JsonConstructor]
    private TorrentProgressed()
        : this(default!, default!, default, default, default, default, default, default, default, default, default, default, default, default!, default!)
    {
    }
}

/// <summary>
/// One connected peer. <paramref name="Source"/> is how it was found: tracker, incoming, magnet (x.pe), manual, pex, dht
/// or unknown (more may come: show unknown values as they are). <paramref name="Progress"/> is 0..1 of the pieces it has.
/// <paramref name="Encrypted"/> is true only when the engine negotiated an encrypted connection.
/// </summary>
public sealed record PeerStatus(
    string Address,
    string Client,
    string Source,
    bool Incoming,
    bool Encrypted,
    double Progress,
    long DownloadRate,
    long UploadRate,
    long DownloadedBytes,
    long UploadedBytes,
    bool PeerChoking,
    bool AmChoking)
{
    // For System.Text.Json only, as TorrentProgressed's: a busy torrent's progress event carries many of these.
    [JsonConstructor]
    private PeerStatus()
        : this(default!, default!, default!, default, default, default, default, default, default, default, default, default)
    {
    }
}

public sealed record FileProgress(string Path, long Length, long VerifiedBytes, FilePriority Priority);

public sealed record TrackerStatus(string Url, string Health, int Seeders, int Leechers, string? LastError)
{
    // For System.Text.Json only, as TorrentProgressed's (five parameters already take the costlier path).
    [JsonConstructor]
    private TrackerStatus()
        : this(default!, default!, default, default, default)
    {
    }
}

/// <summary>A batch of pieces that passed their hash check.</summary>
public sealed record TorrentPiecesVerified(string InfoHash, IReadOnlyList<string> Owners, IReadOnlyList<int> Pieces, int VerifiedCount, int PieceCount)
    : TorrentEvent(InfoHash, Owners);

public sealed record TorrentCompleted(string InfoHash, IReadOnlyList<string> Owners, long TotalBytes) : TorrentEvent(InfoHash, Owners)
{
    public string? Name { get; init; }
}

/// <summary>The torrent seeds; <see cref="Ratio"/> is uploaded over downloaded bytes (over its size when nothing was downloaded).</summary>
public sealed record TorrentSeeding(string InfoHash, IReadOnlyList<string> Owners) : TorrentEvent(InfoHash, Owners)
{
    public string? Name { get; init; }

    public double Ratio { get; init; }

    public long UploadedBytes { get; init; }
}

public sealed record TorrentFailed(string InfoHash, IReadOnlyList<string> Owners, string Reason) : TorrentEvent(InfoHash, Owners)
{
    public string? Name { get; init; }
}

public sealed record TorrentStateChanged(string InfoHash, IReadOnlyList<string> Owners, TorrentState State, string WorkerId)
    : TorrentEvent(InfoHash, Owners);

public sealed record TorrentRemoved(string InfoHash, IReadOnlyList<string> Owners, bool DataDeleted) : TorrentEvent(InfoHash, Owners);

/// <summary>A worker's queue changed: each entry's position and state.</summary>
public sealed record TorrentQueueChanged(string InfoHash, IReadOnlyList<string> Owners, string WorkerId, int Position, TorrentState State)
    : TorrentEvent(InfoHash, Owners);
