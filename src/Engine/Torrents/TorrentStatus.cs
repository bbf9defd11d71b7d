using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Queueing;

namespace TorrentEdge.Engine.Torrents;

/// <summary>An immutable snapshot of one torrent, rebuilt by its loop about once a second and on every state change.</summary>
public sealed record TorrentStatus
{
    public required InfoHash InfoHash { get; init; }
    public required string Name { get; init; }
    public required TorrentState State { get; init; }
    public bool HasMetadata { get; init; }
    /// <summary>Bytes of wanted pieces verified.</summary>
    public long BytesDone { get; init; }
    /// <summary>Bytes of wanted pieces in total.</summary>
    public long BytesWanted { get; init; }
    public long TotalLength { get; init; }
    public int PieceCount { get; init; }
    public int PiecesHave { get; init; }
    /// <summary>0..1 over the wanted pieces.</summary>
    public double Progress { get; init; }
    /// <summary>Payload bytes downloaded and uploaded since the torrent was added (resume data carries them over).</summary>
    public long Downloaded { get; init; }
    public long Uploaded { get; init; }
    /// <summary>Payload rates over the last second or so, bytes per second.</summary>
    public long DownloadRate { get; init; }
    public long UploadRate { get; init; }
    public int Peers { get; init; }
    /// <summary>Connected peers whose connection is RC4-encrypted (MSE); the rest are plaintext.</summary>
    public int EncryptedPeers { get; init; }
    /// <summary>Peers known for this torrent, connected or not (at least <see cref="Peers"/>).</summary>
    public int PeersKnown { get; init; }
    public int Seeds { get; init; }
    public int HashFailures { get; init; }
    /// <summary>Peers disconnected for malformed or out-of-protocol messages (e.g. an extension message that does not parse).</summary>
    public int ProtocolErrors { get; init; }
    /// <summary>Times the metadata assembled from peers (BEP 9) did not match the info-hash and was discarded.</summary>
    public int MetadataHashFailures { get; init; }
    public int BannedPeers { get; init; }
    public QueuePriority QueuePriority { get; init; }
    /// <summary>Per-file bytes verified, in the order of the torrent's files.</summary>
    public IReadOnlyList<long> FileBytesDone { get; init; } = [];
    public string? Error { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    /// <summary>Time spent seeding, carried over restarts by the resume data (what seed-time limits count).</summary>
    public TimeSpan SeedingTime { get; init; }
}
