namespace TorrentEdge.AppHost;

/// <summary>
/// The names and numbers of the suite that live outside the resource declarations in Program.cs: the Kafka topics
/// and their partitions, the peer port range, the defaults of the AppHost's options. The Kubernetes manifests
/// (deploy/) are checked against these and against the app model Program.cs builds.
/// </summary>
public static class Topology
{
    public const string Kafka = "kafka";
    public const string Redis = "redis";
    public const string CatalogDb = "catalogdb";
    public const string AnalyticsDb = "analyticsdb";
    public const string PeerWorkerSecret = "peerworker-secret";

    public const string Gateway = "gateway";
    public const string Catalog = "catalog";
    public const string Analytics = "analytics";
    public const string Notifier = "notifier";
    public const string PeerWorker = "peerworker";

    /// <summary>Every service, the Gateway first (it is what people open).</summary>
    public static readonly IReadOnlyList<string> Services = [Gateway, Catalog, Analytics, Notifier, PeerWorker];

    /// <summary>Kafka topics created at start, with their partition counts (partitions bound PeerWorker parallelism).</summary>
    public static readonly IReadOnlyList<TopicSpec> Topics =
    [
        new("torrent-specs", 12),
        new("torrent-specs.dlq", 12),
        new("torrent-events", 6),
        new("torrent-events.dlq", 6),
        // Small and compacted: one record per account, read whole by every Notifier and Analytics replica at start.
        new("torrent-users", 3),
    ];

    /// <summary>Brokers in the embedded Kafka cluster.</summary>
    public const int KafkaBrokers = 3;

    /// <summary>BitTorrent listen ports of the PeerWorker replicas on one machine: each takes the first free one.</summary>
    public const int PeerPortRangeStart = 6881;
    public const int PeerPortRangeEnd = 6999;

    public const int DefaultGatewayPort = 3000;
    public const int DefaultWorkers = 2;
    public const string DefaultDataDir = ".torrentedge";
}

/// <summary>A Kafka topic and its partition count.</summary>
public sealed record TopicSpec(string Name, int Partitions);
