using System.Net;
using System.Text;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Torrents;

/// <summary>How the engine learnt of a peer.</summary>
public enum PeerSource
{
    Unknown,
    /// <summary>A tracker's announce reply.</summary>
    Tracker,
    /// <summary>The peer dialled us.</summary>
    Incoming,
    /// <summary>Named by the magnet link (x.pe) the torrent was added with.</summary>
    Magnet,
    /// <summary>Named by whoever drives the engine (<see cref="TorrentManager.AddPeer"/>, the CLI's --peer).</summary>
    Manual,
    /// <summary>Peer exchange (BEP 11).</summary>
    Pex,
    /// <summary>The DHT (BEP 5).</summary>
    Dht,
    /// <summary>Local service discovery (BEP 14): the peer announced the torrent on our local network.</summary>
    LocalDiscovery,
}

/// <summary>
/// One connected peer as the torrent's loop last saw it (refreshed once a tick): for status pages, not for decisions.
/// <see cref="Progress"/> is the share of pieces the peer said it has (0 before its bitfield, or without metadata).
/// </summary>
public sealed record PeerInfo(
    IPEndPoint? EndPoint,
    string Client,
    PeerSource Source,
    bool Incoming,
    bool Encrypted,
    double Progress,
    long DownloadRate,
    long UploadRate,
    long Downloaded,
    long Uploaded,
    bool PeerChoking,
    bool AmChoking,
    bool PeerInterested,
    bool AmInterested,
    bool Snubbed);

/// <summary>Names a peer's client from what it told us, for people reading a peer list.</summary>
public static class PeerClients
{
    // Azureus-style two-letter codes (BEP 20) of the clients people meet most.
    private static readonly Dictionary<string, string> Codes = new(StringComparer.Ordinal)
    {
        ["lt"] = "libtorrent", ["LT"] = "libtorrent (Rakshasa)", ["TR"] = "Transmission", ["qB"] = "qBittorrent",
        ["DE"] = "Deluge", ["AZ"] = "Vuze", ["UT"] = "µTorrent", ["BT"] = "BitTorrent", ["TE"] = "TorrentEdge",
        ["AG"] = "Ares", ["A2"] = "aria2", ["BI"] = "BiglyBT", ["FD"] = "Free Download Manager", ["KT"] = "KTorrent",
        ["MO"] = "MonoTorrent", ["TX"] = "Tixati", ["WW"] = "WebTorrent", ["UW"] = "µTorrent Web", ["RT"] = "rTorrent",
    };

    /// <summary>The extension handshake's "v" when the peer sent one, else what its peer id's Azureus-style prefix says.</summary>
    public static string Describe(PeerId peerId, string? extensionVersion)
    {
        if (!string.IsNullOrWhiteSpace(extensionVersion))
        {
            // Another peer's text: printable and bounded before anyone shows or stores it.
            var clean = new string([.. extensionVersion.Where(c => !char.IsControl(c)).Take(64)]);
            if (clean.Length > 0) return clean;
        }
        var id = peerId.Span;
        if (id.Length == PeerId.Length && id[0] == '-' && id[7] == '-' && IsAsciiAlnum(id[1..7]))
        {
            var code = Encoding.ASCII.GetString(id[1..3]);
            var version = Encoding.ASCII.GetString(id[3..7]);
            return Codes.TryGetValue(code, out var name) ? $"{name} {version}" : $"{code} {version}";
        }
        return "unknown";
    }

    private static bool IsAsciiAlnum(ReadOnlySpan<byte> bytes)
    {
        foreach (var b in bytes)
            if (!char.IsAsciiLetterOrDigit((char)b) && b != '.') return false;
        return true;
    }
}
