namespace TorrentEdge.Contracts;

/// <summary>Kafka topic names shared by producers and consumers.</summary>
public static class Topics
{
    /// <summary>Desired state of each torrent, keyed by info-hash; compacted in production. Written by Catalog only.</summary>
    public const string TorrentSpecs = "torrent-specs";

    /// <summary>What actually happens to torrents, keyed by info-hash. Written by PeerWorker.</summary>
    public const string TorrentEvents = "torrent-events";

    /// <summary>
    /// Each user's access status (<see cref="Users.UserAccessChanged"/>), keyed by user id; compacted. Written by Catalog only,
    /// read whole (every partition from the beginning, no consumer group) by every replica of every service that validates tokens.
    /// </summary>
    public const string Users = "torrent-users";

    /// <summary>Suffix of the dead-letter topic that records messages whose consumer kept failing.</summary>
    public const string DeadLetterSuffix = ".dlq";
}
