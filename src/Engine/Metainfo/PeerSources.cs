namespace TorrentEdge.Engine.Metainfo;

/// <summary>Where a torrent's peers may come from.</summary>
[Flags]
public enum PeerSources
{
    None = 0,
    /// <summary>The torrent's own trackers.</summary>
    Tracker = 1,
    /// <summary>Peers that dial us, and peers the user named (a magnet's x.pe, the CLI's --peer).</summary>
    Direct = 2,
    /// <summary>The mainline DHT (BEP 5).</summary>
    Dht = 4,
    /// <summary>Peer exchange (BEP 11).</summary>
    Pex = 8,
    /// <summary>Local service discovery (BEP 14).</summary>
    LocalDiscovery = 16,
    All = Tracker | Direct | Dht | Pex | LocalDiscovery,
}

/// <summary>
/// BEP 27 in one place: a private torrent (private=1 in its info dictionary) finds peers only through its trackers
/// (and peers that reach it directly), never through the DHT, PEX or local discovery. The DHT, PEX and LSD code asks
/// here before announcing, looking up or exchanging a torrent's peers.
/// </summary>
public static class PeerSourcePolicy
{
    /// <summary>The sources a torrent may use; a magnet whose metadata is not known yet may use all (it is not known to be private).</summary>
    public static PeerSources Allowed(TorrentMetainfo? metainfo) =>
        metainfo is { IsPrivate: true } ? PeerSources.Tracker | PeerSources.Direct : PeerSources.All;

    /// <summary>Whether the torrent may use <paramref name="source"/> (every flag in it).</summary>
    public static bool Allows(TorrentMetainfo? metainfo, PeerSources source) => (Allowed(metainfo) & source) == source;
}
