namespace TorrentEdge.Contracts.Live;

// What browsers and other clients receive from Notifier, on SignalR (/hubs/torrents) and Socket.IO (/socket.io/):
// the event names and fields of the original design, plus ours (infoHash on every event, state, byte counts).
// Serialized as camelCase JSON with enums as names.

/// <summary>The client-side event names (those of the original design, then ours).</summary>
public static class LiveEventNames
{
    public const string Added = "torrent:added";
    public const string Progress = "torrent:progress";
    public const string Piece = "torrent:piece";
    public const string Complete = "torrent:complete";
    public const string Seeding = "torrent:seeding";
    public const string Error = "torrent:error";
    public const string QueueUpdated = "queue:updated";

    // Beyond the original set: state changes, removals and late metadata, which a UI also shows.
    public const string State = "torrent:state";
    public const string Removed = "torrent:removed";
    public const string Metadata = "torrent:metadata";

    /// <summary>The seven events of the original design.</summary>
    public static readonly IReadOnlyList<string> Documented = [Added, Progress, Piece, Complete, Seeding, Error, QueueUpdated];
}

/// <summary>Every live event names its torrent.</summary>
public abstract record LivePayload(string InfoHash);

/// <summary><c>torrent:added</c>: a worker took the torrent on.</summary>
public sealed record TorrentAddedPayload(string InfoHash, string? Name, long TotalBytes) : LivePayload(InfoHash);

/// <summary><c>torrent:progress</c>: <paramref name="Percentage"/> is 0-100; speeds are bytes a second.</summary>
public sealed record TorrentProgressPayload(
    string InfoHash,
    string? Name,
    double Percentage,
    long DownloadSpeed,
    long UploadSpeed,
    PeerCounts Peers,
    string State,
    long VerifiedBytes,
    long TotalBytes,
    long DownloadedBytes,
    long UploadedBytes,
    long? EtaSeconds) : LivePayload(InfoHash);

/// <summary>Peers of a torrent: <paramref name="Connected"/> now, <paramref name="Total"/> known in the swarm (at least the connected ones).</summary>
public sealed record PeerCounts(int Connected, int Total);

/// <summary>
/// <c>torrent:piece</c>: one event per verified piece (<paramref name="Index"/>), with the torrent's verified and total piece counts.
/// Sent only to connections that subscribed to the torrent. A client that lags gets one event for what piled up:
/// <paramref name="Index"/> the newest piece, and <see cref="Pieces"/> every piece it stands for (null when just the one).
/// </summary>
public sealed record TorrentPiecePayload(string InfoHash, int Index, int VerifiedCount, int PieceCount) : LivePayload(InfoHash)
{
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<int>? Pieces { get; init; }
}

/// <summary><c>torrent:complete</c>: every wanted byte is verified.</summary>
public sealed record TorrentCompletePayload(string InfoHash, string? Name, long TotalBytes) : LivePayload(InfoHash);

/// <summary><c>torrent:seeding</c>: <paramref name="Ratio"/> is uploaded over downloaded bytes (over the size when nothing was downloaded).</summary>
public sealed record TorrentSeedingPayload(string InfoHash, string? Name, double Ratio, long UploadedBytes) : LivePayload(InfoHash);

/// <summary><c>torrent:error</c>: what went wrong, as the engine or worker said it.</summary>
public sealed record TorrentErrorPayload(string InfoHash, string? Name, string Message) : LivePayload(InfoHash);

/// <summary>
/// <c>queue:updated</c>: the receiving user's totals (<see cref="QueueStats"/>) after a change to <paramref name="InfoHash"/>;
/// <paramref name="Position"/> is its place in its worker's queue when the change was a queue move.
/// </summary>
public sealed record QueueUpdatedPayload(string InfoHash, QueueStats Stats, string State, int? Position) : LivePayload(InfoHash);

/// <summary>A user's torrents: running (fetching metadata, checking, downloading, seeding) and waiting in a queue.</summary>
public sealed record QueueStats(int ActiveCount, int QueuedCount);

/// <summary><c>torrent:state</c>: a change of state, and the worker that runs the torrent.</summary>
public sealed record TorrentStatePayload(string InfoHash, string State, string WorkerId) : LivePayload(InfoHash);

/// <summary><c>torrent:removed</c>.</summary>
public sealed record TorrentRemovedPayload(string InfoHash, bool DataDeleted) : LivePayload(InfoHash);

/// <summary><c>torrent:metadata</c>: a magnet's metadata arrived (Catalog serves the metainfo itself).</summary>
public sealed record TorrentMetadataPayload(string InfoHash, string Name, long TotalBytes, int FileCount) : LivePayload(InfoHash);
