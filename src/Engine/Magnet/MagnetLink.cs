using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Text;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Magnet;

/// <summary>A BitTorrent magnet link (BEP 9): info-hash, display name, trackers and peer addresses.</summary>
public sealed class MagnetLink
{
    public MagnetLink(InfoHash infoHash, string? displayName = null, IReadOnlyList<string>? trackers = null, IReadOnlyList<EndPoint>? peers = null)
    {
        InfoHash = infoHash;
        DisplayName = displayName;
        Trackers = trackers ?? [];
        Peers = peers ?? [];
    }

    public InfoHash InfoHash { get; }

    /// <summary>The "dn" parameter, if any (not sanitised: use it for display only).</summary>
    public string? DisplayName { get; }

    /// <summary>"tr" parameters, URL-decoded, in order, without duplicates.</summary>
    public IReadOnlyList<string> Trackers { get; }

    /// <summary>"x.pe" peers: <see cref="IPEndPoint"/> for IP literals, <see cref="DnsEndPoint"/> for host names.</summary>
    public IReadOnlyList<EndPoint> Peers { get; }

    /// <summary>"xl", the exact length in bytes, if given.</summary>
    public long? ExactLength { get; init; }

    /// <summary>"ws" web seeds (BEP 19).</summary>
    public IReadOnlyList<string> WebSeeds { get; init; } = [];

    /// <summary>Trackers as tiers, one tracker per tier as magnet links carry no tiering.</summary>
    public IReadOnlyList<IReadOnlyList<string>> AnnounceTiers => Trackers.Select(t => (IReadOnlyList<string>)[t]).ToArray();

    /// <exception cref="MetainfoException">The link is not a usable BitTorrent magnet link.</exception>
    public static MagnetLink Parse(string uri)
        => TryParse(uri, out var link, out var error) ? link : throw new MetainfoException($"Invalid magnet link: {error}");

    public static bool TryParse([NotNullWhen(true)] string? uri, [NotNullWhen(true)] out MagnetLink? link)
        => TryParse(uri, out link, out _);

    public static bool TryParse([NotNullWhen(true)] string? uri, [NotNullWhen(true)] out MagnetLink? link, [NotNullWhen(false)] out string? error)
    {
        link = null;
        if (string.IsNullOrWhiteSpace(uri))
        {
            error = "empty";
            return false;
        }

        uri = uri.Trim();
        if (!uri.StartsWith("magnet:?", StringComparison.OrdinalIgnoreCase))
        {
            error = "it does not start with 'magnet:?'";
            return false;
        }

        InfoHash? hash = null;
        var hasV2 = false;
        string? name = null;
        long? length = null;
        var trackers = new List<string>();
        var webSeeds = new List<string>();
        var peers = new List<EndPoint>();

        foreach (var part in uri["magnet:?".Length..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0) continue;
            var key = part[..eq].ToLowerInvariant();
            // Numbered forms like "xt.1" and "tr.2" mean the same as the plain keys.
            var dot = key.LastIndexOf('.');
            if (dot > 0 && key[(dot + 1)..].All(char.IsAsciiDigit)) key = key[..dot];
            var raw = part[(eq + 1)..];
            string value;
            try
            {
                value = Uri.UnescapeDataString(key == "dn" ? raw.Replace('+', ' ') : raw);
            }
            catch (UriFormatException)
            {
                error = $"parameter '{key}' is not URL-encoded correctly";
                return false;
            }

            switch (key)
            {
                case "xt":
                    if (value.StartsWith("urn:btih:", StringComparison.OrdinalIgnoreCase))
                    {
                        var text = value["urn:btih:".Length..];
                        if (!InfoHash.TryParse(text, out var h))
                        {
                            error = $"'{text}' is not an info-hash (40 hex digits or 32 base32 characters)";
                            return false;
                        }

                        if (hash is { } existing && existing != h)
                        {
                            error = "it names two different v1 info-hashes";
                            return false;
                        }

                        hash = h;
                    }
                    else if (value.StartsWith("urn:btmh:", StringComparison.OrdinalIgnoreCase))
                    {
                        hasV2 = true;
                    }

                    break;
                case "dn":
                    name ??= value;
                    break;
                case "tr":
                    if (Uri.TryCreate(value, UriKind.Absolute, out var tu) && tu.Scheme is "http" or "https" or "udp" && !trackers.Contains(value))
                    {
                        trackers.Add(value);
                    }

                    break;
                case "ws":
                    if (Uri.TryCreate(value, UriKind.Absolute, out var wu) && wu.Scheme is "http" or "https") webSeeds.Add(value);
                    break;
                case "xl":
                    if (long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var xl)) length = xl;
                    break;
                case "x.pe":
                    if (TryParsePeer(value, out var ep)) peers.Add(ep);
                    break;
            }
        }

        if (hash is not { } infoHash)
        {
            error = hasV2 ? "v2-only magnet links (urn:btmh) are not supported" : "it has no 'xt=urn:btih:' info-hash";
            return false;
        }

        link = new MagnetLink(infoHash, name, trackers, peers) { ExactLength = length, WebSeeds = webSeeds };
        error = null;
        return true;
    }

    /// <summary>Parses "host:port", "1.2.3.4:port" or "[v6]:port".</summary>
    public static bool TryParsePeer(string text, [NotNullWhen(true)] out EndPoint? endPoint)
    {
        endPoint = null;
        string host;
        string portText;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf(']');
            if (close < 0 || close + 1 >= text.Length || text[close + 1] != ':') return false;
            host = text[1..close];
            portText = text[(close + 2)..];
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6) return false;
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon <= 0 || text.IndexOf(':') != colon) return false;
            host = text[..colon];
            portText = text[(colon + 1)..];
        }

        if (!ushort.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port == 0) return false;
        if (IPAddress.TryParse(host, out var ip))
        {
            endPoint = new IPEndPoint(ip, port);
            return true;
        }

        if (Uri.CheckHostName(host) != UriHostNameType.Dns) return false;
        endPoint = new DnsEndPoint(host, port);
        return true;
    }

    /// <summary>The link in canonical form (hex info-hash, encoded parameters).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("magnet:?xt=urn:btih:").Append(InfoHash.ToHex());
        if (DisplayName is not null) sb.Append("&dn=").Append(Uri.EscapeDataString(DisplayName));
        if (ExactLength is { } xl) sb.Append("&xl=").Append(xl.ToString(CultureInfo.InvariantCulture));
        foreach (var t in Trackers) sb.Append("&tr=").Append(Uri.EscapeDataString(t));
        foreach (var w in WebSeeds) sb.Append("&ws=").Append(Uri.EscapeDataString(w));
        foreach (var p in Peers)
        {
            var text = p switch
            {
                IPEndPoint { AddressFamily: System.Net.Sockets.AddressFamily.InterNetworkV6 } ip => $"[{ip.Address}]:{ip.Port}",
                IPEndPoint ip => $"{ip.Address}:{ip.Port}",
                DnsEndPoint d => $"{d.Host}:{d.Port}",
                _ => p.ToString()!,
            };
            sb.Append("&x.pe=").Append(Uri.EscapeDataString(text));
        }

        return sb.ToString();
    }
}
