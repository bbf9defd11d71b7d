using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.PeerWorker.Runtime;

/// <summary>
/// The part of the engine the worker drives, keyed by lower-case hex info-hash. Kept narrow so the reconciler can be
/// tested against a fake and the engine can change behind <see cref="EngineTorrentRuntime"/>.
/// </summary>
public interface ITorrentRuntime
{
    /// <summary>Starts listening for peers; called once before any torrent starts.</summary>
    ValueTask InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Adds and starts a torrent (or queues it); continues from the folder's files and resume data when present.</summary>
    ValueTask StartAsync(TorrentStartRequest request, CancellationToken cancellationToken);

    ValueTask PauseAsync(string infoHash, CancellationToken cancellationToken);

    ValueTask ResumeAsync(string infoHash, CancellationToken cancellationToken);

    ValueTask SetPriorityAsync(string infoHash, TorrentPriority priority, CancellationToken cancellationToken);

    /// <summary>One per file in metainfo order; empty means all normal.</summary>
    ValueTask SetFilePrioritiesAsync(string infoHash, IReadOnlyList<FilePriority> priorities, CancellationToken cancellationToken);

    ValueTask RecheckAsync(string infoHash, CancellationToken cancellationToken);

    /// <summary>The torrent's own encryption policy from now on; null: the worker's (<c>PeerWorker:Encryption</c>).</summary>
    ValueTask SetEncryptionAsync(string infoHash, PeerEncryption? encryption, CancellationToken cancellationToken);

    /// <summary>Stops a torrent and forgets it, saving its resume data first; files and resume data stay for the next owner.</summary>
    ValueTask StopAsync(string infoHash, CancellationToken cancellationToken);

    /// <summary>
    /// Removes a torrent, with its resume data, and its files when <paramref name="deleteData"/>; also when it is not
    /// running here (another owner may have died before deleting). True when something was removed.
    /// </summary>
    ValueTask<bool> RemoveAsync(string infoHash, string folder, bool deleteData, CancellationToken cancellationToken);

    RuntimeSnapshot? GetSnapshot(string infoHash);

    IReadOnlyList<RuntimeSnapshot> GetSnapshots();

    /// <summary>What happens to the torrents, in order per torrent; one reader.</summary>
    IAsyncEnumerable<RuntimeEvent> ReadEventsAsync(CancellationToken cancellationToken);

    /// <summary>Null when healthy, otherwise why not.</summary>
    string? HealthProblem { get; }
}

/// <summary>What to start: exactly one of <see cref="Metainfo"/> and <see cref="MagnetUri"/> is used (metainfo first).</summary>
public sealed record TorrentStartRequest(
    string InfoHash,
    byte[]? Metainfo,
    string? MagnetUri,
    string Folder,
    bool Paused,
    TorrentPriority Priority,
    IReadOnlyList<FilePriority> FilePriorities)
{
    /// <summary>The torrent's own encryption policy; null: the worker's.</summary>
    public PeerEncryption? Encryption { get; init; }
}

/// <summary>A torrent's status as the runtime last saw it.</summary>
public sealed record RuntimeSnapshot(
    string InfoHash,
    string Name,
    TorrentState State,
    bool HasMetadata,
    double Progress,
    long VerifiedBytes,
    long WantedBytes,
    long TotalBytes,
    long DownloadedBytes,
    long UploadedBytes,
    long DownloadRate,
    long UploadRate,
    int Peers,
    int Seeds,
    int PieceCount,
    int PiecesHave,
    IReadOnlyList<FileProgress> Files,
    string? Error,
    int PeersKnown = 0)
{
    /// <summary>The connected peers (empty while the torrent moves no data).</summary>
    public IReadOnlyList<PeerStatus> PeerList { get; init; } = [];

    /// <summary>The have-bitfield as of the engine's last tick (null before the metadata); a new array when it changes.</summary>
    public byte[]? PieceBitfield { get; init; }

    /// <summary>The torrent's trackers and how each is doing (empty without trackers or before the torrent announces).</summary>
    public IReadOnlyList<TrackerStatus> Trackers { get; init; } = [];
}

/// <summary>Something the runtime reports about a torrent.</summary>
public abstract record RuntimeEvent(string InfoHash);

public sealed record RuntimeStateChanged(string InfoHash, TorrentState State) : RuntimeEvent(InfoHash);

public sealed record RuntimeProgress(string InfoHash, RuntimeSnapshot Snapshot) : RuntimeEvent(InfoHash);

public sealed record RuntimePiecesVerified(string InfoHash, IReadOnlyList<int> Pieces, int VerifiedCount, int PieceCount) : RuntimeEvent(InfoHash);

/// <summary>A magnet's metadata arrived; <paramref name="Metainfo"/> is a complete .torrent built around the info dictionary.</summary>
public sealed record RuntimeMetadataReceived(string InfoHash, string Name, long TotalBytes, int FileCount, byte[] Metainfo) : RuntimeEvent(InfoHash);

public sealed record RuntimeCompleted(string InfoHash, long TotalBytes) : RuntimeEvent(InfoHash);

public sealed record RuntimeSeeding(string InfoHash) : RuntimeEvent(InfoHash);

public sealed record RuntimeFailed(string InfoHash, string Reason) : RuntimeEvent(InfoHash);

public sealed record RuntimeQueueChanged(string InfoHash, int Position, TorrentState State) : RuntimeEvent(InfoHash);
