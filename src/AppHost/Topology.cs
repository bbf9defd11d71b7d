namespace TorrentEdge.AppHost;

/// <summary>
/// The suite as data: every service, its replicas, port, dependencies and the resources it is handed. The single
/// place the AppHost reads it from, and the one the Kubernetes manifests (deploy/) are checked against.
/// </summary>
public static class Topology
{
    public const string Kafka = "kafka";
    public const string Redis = "redis";
    public const string CatalogDb = "catalogdb";

    /// <summary>Kafka topics created at start, with their partition counts (partitions bound PeerWorker parallelism).</summary>
    public static readonly IReadOnlyList<TopicSpec> Topics =
    [
        new("torrent-specs", 12),
        new("torrent-specs.dlq", 12),
        new("torrent-events", 6),
        new("torrent-events.dlq", 6),
    ];

    /// <summary>Brokers in the embedded Kafka cluster.</summary>
    public const int KafkaBrokers = 3;

    /// <summary>First BitTorrent listening port handed to PeerWorker replicas; replica i gets the first free port from here on.</summary>
    public const int PeerPortRangeStart = 6881;

    public static readonly ServiceSpec Gateway = new(
        Name: "gateway",
        Project: "Gateway",
        References: ["catalog", "analytics", "notifier"],
        Uses: []);

    public static readonly ServiceSpec Catalog = new(
        Name: "catalog",
        Project: "Catalog",
        References: [],
        Uses: [Kafka, Redis, CatalogDb]);

    public static readonly ServiceSpec PeerWorker = new(
        Name: "peerworker",
        Project: "PeerWorker",
        References: ["catalog"],
        Uses: [Kafka],
        DefaultReplicas: 2,
        IsPeerWorker: true);

    public static readonly ServiceSpec Notifier = new(
        Name: "notifier",
        Project: "Notifier",
        // Catalog's JWKS: the tokens it validates are Catalog's.
        References: ["catalog"],
        Uses: [Kafka, Redis]);

    public static readonly ServiceSpec Analytics = new(
        Name: "analytics",
        Project: "Analytics",
        // Catalog's JWKS: the tokens it validates are Catalog's.
        References: ["catalog"],
        Uses: [Kafka, Redis]);

    /// <summary>Every service, the Gateway first (it is what people open), then in start order.</summary>
    public static readonly IReadOnlyList<ServiceSpec> Services = [Gateway, Catalog, Analytics, Notifier, PeerWorker];
}

/// <summary>The topology as one serialisable document (what <c>--print-topology</c> prints).</summary>
public static class TopologyDocument
{
    private static readonly System.Text.Json.JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase,
    };

    public static string ToJson(int workers) => System.Text.Json.JsonSerializer.Serialize(new
    {
        services = Topology.Services.Select(s => new
        {
            name = s.Name,
            project = s.Project,
            assembly = s.AssemblyName,
            replicas = s.IsPeerWorker ? workers : s.DefaultReplicas,
            references = s.References,
            uses = s.Uses,
        }),
        topics = Topology.Topics,
        kafkaBrokers = Topology.KafkaBrokers,
        peerPortRangeStart = Topology.PeerPortRangeStart,
    }, Json);
}

/// <summary>A Kafka topic and its partition count.</summary>
public sealed record TopicSpec(string Name, int Partitions);

/// <summary>
/// One service of the suite. <paramref name="References"/> are the services whose endpoints it is handed
/// (<c>services__&lt;name&gt;__http__&lt;i&gt;</c>); <paramref name="Uses"/> the connection strings it gets.
/// </summary>
public sealed record ServiceSpec(
    string Name,
    string Project,
    IReadOnlyList<string> References,
    IReadOnlyList<string> Uses,
    int DefaultReplicas = 1,
    bool IsPeerWorker = false)
{
    /// <summary>The assembly the AppHost launches: <c>TorrentEdge.&lt;Project&gt;.dll</c>.</summary>
    public string AssemblyName => "TorrentEdge." + Project;

    /// <summary>A replica's resource name: the service name, suffixed with its index when there can be several.</summary>
    public string ReplicaName(int index, int replicas) => replicas > 1 || IsPeerWorker ? $"{Name}-{index}" : Name;
}
