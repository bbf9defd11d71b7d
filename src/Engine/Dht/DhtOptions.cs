using System.Net;

namespace TorrentEdge.Engine.Dht;

/// <summary>Settings of the engine's DHT node (BEP 5). Set <see cref="EngineOptions.Dht"/> to turn the DHT on.</summary>
public sealed record DhtOptions
{
    /// <summary>
    /// The public routers most clients bootstrap from. Never a default of this repository's code: only a Production
    /// deployment that asks for them gets them (PeerWorker's <c>PeerWorker:Dht:UseWellKnownRouters</c>), so nothing run
    /// in Development or by a test sends a packet outside 127.0.0.0/8.
    /// </summary>
    public static IReadOnlyList<string> WellKnownRouters { get; } =
        ["router.bittorrent.com:6881", "router.utorrent.com:6881", "dht.transmissionbt.com:6881", "dht.libtorrent.org:25401"];

    /// <summary>UDP address of the node; null: the peer listener's address and port (port 0 if that port is taken for UDP).</summary>
    public IPEndPoint? ListenEndPoint { get; init; }

    /// <summary>Nodes to join the DHT through, as HOST:PORT; empty: none (the node waits to be contacted).</summary>
    public IReadOnlyList<string> BootstrapNodes { get; init; } = [];

    /// <summary>Where the routing table is kept across restarts; null: not kept.</summary>
    public string? StateFile { get; init; }

    /// <summary>Our address as others see it, for a BEP 42 node id; null: the listening address (a random id when that is unspecified).</summary>
    public IPAddress? ExternalAddress { get; init; }

    /// <summary>
    /// Drop nodes whose ids fail BEP 42 for their address. Off by default, as in libtorrent (<c>dht_enforce_node_id</c>):
    /// unverified ids are only given way to verified ones in a full bucket (<c>dht_prefer_verified_node_ids</c>).
    /// </summary>
    public bool EnforceNodeId { get; init; }

    /// <summary>One routing-table node per IP address (libtorrent's <c>dht_restrict_routing_ips</c>).</summary>
    public bool RestrictRoutingIps { get; init; } = true;

    /// <summary>Lookups in flight per lookup (Kademlia's alpha).</summary>
    public int Alpha { get; init; } = 3;

    /// <summary>Most queries one lookup sends.</summary>
    public int MaxQueriesPerLookup { get; init; } = 64;

    /// <summary>Longest a lookup runs.</summary>
    public TimeSpan LookupTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a query waits for its answer.</summary>
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>How often a torrent's peers are looked up and our port announced (libtorrent's <c>dht_announce_interval</c>).</summary>
    public TimeSpan AnnounceInterval { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>How soon a torrent without peers is looked up again.</summary>
    public TimeSpan RetryInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the node pings questionable nodes, refreshes buckets and saves its table.</summary>
    public TimeSpan MaintenanceInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Torrents looked up at once.</summary>
    public int MaxConcurrentLookups { get; init; } = 4;

    /// <summary>Queries answered per second per source address (burst of 4 seconds' worth).</summary>
    public double QueriesPerSecondPerAddress { get; init; } = 5;

    /// <summary>Queries answered per second over all sources.</summary>
    public double QueriesPerSecond { get; init; } = 500;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Parses HOST:PORT (or [v6]:PORT); false for anything else.</summary>
    public static bool TryParseHostPort(string text, out string host, out int port)
    {
        host = "";
        port = 0;
        var colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1) return false;
        host = text[..colon].Trim('[', ']');
        return host.Length > 0 && int.TryParse(text.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out port) && port is > 0 and <= 65535;
    }
}
