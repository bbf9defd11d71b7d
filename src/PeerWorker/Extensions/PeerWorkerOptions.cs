using System.Net;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Encryption;

namespace TorrentEdge.PeerWorker.Extensions;

/// <summary>Settings of one PeerWorker replica (section <c>PeerWorker</c>).</summary>
public sealed class PeerWorkerOptions
{
    public const string SectionName = "PeerWorker";

    /// <summary>Consumer group of every replica on torrent-specs: its partitions are the replicas' ownership.</summary>
    public string ConsumerGroup { get; set; } = "peerworker";

    /// <summary>Download root shared by all replicas (ReadWriteMany in Kubernetes); each torrent gets the folder named by its info-hash.</summary>
    public string DownloadRoot { get; set; } = Path.Combine(Environment.CurrentDirectory, "downloads");

    /// <summary>Where resume data goes; by default beside the torrent folders in <see cref="DownloadRoot"/>. Must be shared as well.</summary>
    public string? ResumeRoot { get; set; }

    /// <summary>
    /// Name of this replica in events and logs: by default the OpenTelemetry instance id the orchestrator gives each
    /// replica (Aspire's <c>peerworker-abcd1234</c>, matching its dashboard name), else the host name (a pod's name).
    /// </summary>
    public string ReplicaId { get; set; } = DefaultReplicaId(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME"), Environment.GetEnvironmentVariable("OTEL_RESOURCE_ATTRIBUTES"));

    internal static string DefaultReplicaId(string? serviceName, string? resourceAttributes)
    {
        foreach (var attribute in (resourceAttributes ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (attribute.StartsWith("service.instance.id=", StringComparison.Ordinal) && attribute["service.instance.id=".Length..] is { Length: > 0 } id)
            {
                // Replicas on one machine share the host name: the instance id is what tells them apart.
                return string.IsNullOrEmpty(serviceName) || id.StartsWith(serviceName, StringComparison.Ordinal) ? id : $"{serviceName}-{id}";
            }
        }
        return Environment.MachineName;
    }

    /// <summary>Address the peer listener binds.</summary>
    public string ListenAddress { get; set; } = "0.0.0.0";

    /// <summary>Port for incoming peers, or the first of the range when <see cref="PeerPortMax"/> is set (0: any free port).</summary>
    public int PeerPort { get; set; } = 6881;

    /// <summary>Last port of the range the replicas of one machine share: each takes the first free one from <see cref="PeerPort"/>.</summary>
    public int? PeerPortMax { get; set; }

    /// <summary>Torrents downloading at once on this replica; the others are queued (seeds do not count).</summary>
    public int MaxActiveTorrents { get; set; } = 5;

    public int MaxConnections { get; set; } = 200;

    public int MaxConnectionsPerTorrent { get; set; } = 50;

    /// <summary>
    /// Strikes and bans count per IP address (true), so a banned peer cannot come back from another port; false counts
    /// them per address and port, which spares the other users behind one NAT address.
    /// </summary>
    public bool BanByAddress { get; set; } = true;

    /// <summary>Outgoing dials in progress at once over the replica's torrents.</summary>
    public int MaxHalfOpenConnections { get; set; } = 32;

    /// <summary>Incoming connections still waiting for their handshake; more are closed at once.</summary>
    public int MaxPendingIncomingConnections { get; set; } = 64;

    /// <summary>Connections per torrent with one IP address, any port and either direction.</summary>
    public int MaxConnectionsPerAddress { get; set; } = 3;

    /// <summary>Peer addresses remembered per torrent (trackers, magnets, incoming).</summary>
    public int MaxPeerCandidates { get; set; } = 2000;

    /// <summary>Items a torrent's loop queue holds before its peer connections stop being read until it catches up.</summary>
    public int MaxLoopQueueLength { get; set; } = 4096;

    /// <summary>Bytes of piece buffers per torrent for pieces being downloaded or hashed.</summary>
    public long MaxActivePieceBytes { get; set; } = 128L * 1024 * 1024;

    /// <summary>Whether every engine limit above is at least 1 (checked at start).</summary>
    internal bool HasValidEngineLimits =>
        MaxHalfOpenConnections >= 1 && MaxPendingIncomingConnections >= 1 && MaxConnectionsPerAddress >= 1 &&
        MaxPeerCandidates >= 1 && MaxLoopQueueLength >= 1 && MaxActivePieceBytes >= 1;

    /// <summary>Upload limit of the replica in bytes per second; 0 is unlimited.</summary>
    public long UploadRateLimit { get; set; }

    /// <summary>Download limit of the replica in bytes per second; 0 is unlimited.</summary>
    public long DownloadRateLimit { get; set; }

    /// <summary>Write downloaded pieces with direct I/O, past the page cache, where the volume allows (see the engine's <c>EngineOptions.DirectWrites</c>).</summary>
    public bool DirectWrites { get; set; } = true;

    /// <summary>Client id of the replicas' service credential at Catalog (<c>Auth:ServiceClients:&lt;id&gt;</c> there).</summary>
    public string CatalogClientId { get; set; } = "peerworker";

    /// <summary>
    /// Shared secret of that client; the replica trades it for a short-lived service token to fetch metainfo that is
    /// not inline in a spec. No default: the AppHost generates one per run; elsewhere it comes from a secret store.
    /// </summary>
    public string? CatalogClientSecret { get; set; }

    /// <summary>Kafka session timeout of the replica: how soon a killed replica's torrents move to the others (default 10 s).</summary>
    public TimeSpan? SessionTimeout { get; set; }

    /// <summary>
    /// How long the fence trusts its last reading of a torrent's owner file before reading it again (docs/peerworker.md,
    /// Fencing). Far below the session timeout: a replica frozen longer than that finds its reading stale.
    /// </summary>
    public TimeSpan FenceRecheckInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// Diagnostics: a folder where each replica appends one line per write or delete the fence allowed or refused
    /// (<c>&lt;replica&gt;.log</c>); tests read it to prove a fenced replica wrote nothing. Off when unset.
    /// </summary>
    public string? FenceLogDirectory { get; set; }

    /// <summary>Longest wait for a revoked partition's torrents to stop before the rebalance goes on.</summary>
    public TimeSpan RevocationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Shortest time between two progress events of one torrent.</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Peers a progress event names at most (those with the most traffic): status pages, not a swarm dump.</summary>
    public int StatusPeers { get; set; } = 25;

    /// <summary>Shortest time between two piece maps (the have-bitfield) of one torrent in its progress events.</summary>
    public TimeSpan PieceMapInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest back-off between attempts to converge a torrent that failed (Catalog down, engine error).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Message stream encryption with peers: <c>prefer</c> (default), <c>require</c> or <c>disable</c> (docs/engine-encryption.md).</summary>
    public EncryptionPolicy Encryption { get; set; } = EncryptionPolicy.Prefer;

    /// <summary>Where tracker URLs, their redirects and a magnet's x.pe peers may be dialled (section <c>PeerWorker:Destinations</c>).</summary>
    public DestinationOptions Destinations { get; set; } = new();

    /// <summary>The replica's DHT node (section <c>PeerWorker:Dht</c>).</summary>
    public DhtSettings Dht { get; set; } = new();

    /// <summary>Local service discovery, BEP 14 (section <c>PeerWorker:LocalDiscovery</c>); off unless enabled.</summary>
    public LocalDiscoverySettings LocalDiscovery { get; set; } = new();

    public string GetTorrentFolder(string infoHash) => Path.Combine(Path.GetFullPath(DownloadRoot), infoHash);

    public string GetResumeRoot() => Path.GetFullPath(ResumeRoot ?? DownloadRoot);
}

/// <summary>
/// The engine's destination policy as configured: public addresses only unless allowed here. Users add torrents, and a
/// torrent's tracker URLs, redirects and x.pe peers must not make a worker reach internal hosts (cloud metadata,
/// databases, admin ports).
/// </summary>
public sealed class DestinationOptions
{
    /// <summary>127.0.0.0/8 and ::1; unset: allowed in Development only (trackers and seeders on 127.0.0.1 there).</summary>
    public bool? AllowLoopback { get; set; }

    /// <summary>RFC 1918, 100.64/10 and unique-local fc00::/7 (a tracker on the LAN); off by default.</summary>
    public bool AllowPrivate { get; set; }

    /// <summary>169.254/16 and fe80::/10, the cloud metadata service among them; off by default.</summary>
    public bool AllowLinkLocal { get; set; }

    /// <summary>Networks allowed whatever their kind, in CIDR notation (e.g. <c>10.20.0.5/32</c>): the allow-list.</summary>
    public List<string> Allow { get; set; } = [];

    /// <summary>The engine's policy; throws <see cref="FormatException"/> naming a malformed network.</summary>
    public DestinationPolicy ToPolicy() => new()
    {
        AllowLoopback = AllowLoopback ?? false,
        AllowPrivate = AllowPrivate,
        AllowLinkLocal = AllowLinkLocal,
        AllowedNetworks = Allow.Select(text => IPNetwork.TryParse(text.Trim(), out var network)
            ? network
            : throw new FormatException($"PeerWorker:Destinations:Allow has '{text}', which is not a network in CIDR notation (such as 10.20.0.5/32).")).ToArray(),
    };
}

/// <summary>
/// The DHT (BEP 5) of a replica: on by default, joined through <see cref="BootstrapNodes"/>; the public routers only in
/// Production (<see cref="UseWellKnownRouters"/>), so Development, the AppHost and the tests never send a packet beyond
/// 127.0.0.0/8. UDP on the replica's peer port.
/// </summary>
public sealed class DhtSettings
{
    public bool Enabled { get; set; } = true;

    /// <summary>Nodes to join through, as HOST:PORT. Empty by default.</summary>
    public List<string> BootstrapNodes { get; set; } = [];

    /// <summary>
    /// Also join through the well-known public routers (router.bittorrent.com and others). Unset: on in Production. Outside
    /// Production it is always off, whatever is configured.
    /// </summary>
    public bool? UseWellKnownRouters { get; set; }

    /// <summary>The engine's DHT settings; <paramref name="stateFile"/> keeps the routing table across restarts.</summary>
    public Engine.Dht.DhtOptions? ToEngineOptions(string stateFile) => Enabled
        ? new Engine.Dht.DhtOptions
        {
            BootstrapNodes = [.. BootstrapNodes, .. UseWellKnownRouters == true ? Engine.Dht.DhtOptions.WellKnownRouters : []],
            StateFile = stateFile,
        }
        : null;
}

/// <summary>
/// Local service discovery (BEP 14) of a replica: multicast announces on the replica's network. Off unless
/// <see cref="Enabled"/>, in every environment: its datagrams leave the machine, and the peers it finds are on private
/// addresses, which the destination policy refuses unless <c>PeerWorker:Destinations</c> allows the LAN
/// (<c>AllowPrivate</c> or an <c>Allow</c> entry). For a replica on a home network or a NAS, not in a cluster.
/// </summary>
public sealed class LocalDiscoverySettings
{
    public bool Enabled { get; set; }

    /// <summary>The address of the interface to announce on; unset: the peer listener's address (or the system's choice).</summary>
    public string? InterfaceAddress { get; set; }

    /// <summary>The engine's settings, or null when off; throws <see cref="FormatException"/> for a malformed address.</summary>
    public Engine.LocalDiscovery.LocalDiscoveryOptions? ToEngineOptions() => Enabled
        ? new Engine.LocalDiscovery.LocalDiscoveryOptions
        {
            InterfaceAddress = string.IsNullOrWhiteSpace(InterfaceAddress) ? null
                : System.Net.IPAddress.TryParse(InterfaceAddress.Trim(), out var address) ? address
                : throw new FormatException($"PeerWorker:LocalDiscovery:InterfaceAddress is '{InterfaceAddress}', which is not an IP address."),
        }
        : null;
}
