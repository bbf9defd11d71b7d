using System.Net;
using System.Text;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.LocalDiscovery;

/// <summary>One BT-SEARCH announce (BEP 14): the port a peer listens on, the torrents it has, and its cookie.</summary>
public sealed record LsdAnnounce(int Port, IReadOnlyList<InfoHash> InfoHashes, string? Cookie);

/// <summary>
/// The BT-SEARCH message of local service discovery (BEP 14), pure encode and decode with no I/O:
/// <code>
/// BT-SEARCH * HTTP/1.1\r\n
/// Host: 239.192.152.143:6771\r\n
/// Port: 6881\r\n
/// Infohash: 40 hex characters\r\n   (one or more)
/// cookie: ours\r\n
/// \r\n
/// \r\n
/// </code>
/// as libtorrent writes it. Decoding never throws and refuses oversized datagrams before reading them.
/// </summary>
public static class LsdCodec
{
    /// <summary>BEP 14's IPv4 group and port.</summary>
    public static IPEndPoint MulticastEndPoint { get; } = new(IPAddress.Parse("239.192.152.143"), 6771);

    /// <summary>Longest datagram read or written: one unfragmented packet on an Ethernet link.</summary>
    public const int MaxDatagramBytes = 1400;

    /// <summary>Info-hashes in one message, sent or taken (the rest of a longer message is ignored).</summary>
    public const int MaxInfoHashes = 20;

    /// <summary>Longest cookie sent or taken.</summary>
    public const int MaxCookieLength = 32;

    /// <summary>The datagram announcing <paramref name="infoHashes"/> (1 to <see cref="MaxInfoHashes"/>) on <paramref name="port"/>.</summary>
    public static byte[] Encode(int port, IReadOnlyList<InfoHash> infoHashes, string? cookie)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        if (infoHashes.Count is 0 or > MaxInfoHashes)
            throw new ArgumentOutOfRangeException(nameof(infoHashes), $"1 to {MaxInfoHashes} info-hashes per message.");
        if (cookie is not null && (cookie.Length is 0 or > MaxCookieLength || !cookie.All(char.IsAsciiLetterOrDigit)))
            throw new ArgumentException($"A cookie is 1 to {MaxCookieLength} ASCII letters or digits.", nameof(cookie));
        var text = new StringBuilder(64 + 52 * infoHashes.Count);
        text.Append("BT-SEARCH * HTTP/1.1\r\n");
        text.Append("Host: ").Append(MulticastEndPoint.Address).Append(':').Append(MulticastEndPoint.Port).Append("\r\n");
        text.Append("Port: ").Append(port).Append("\r\n");
        foreach (var hash in infoHashes) text.Append("Infohash: ").Append(hash.ToHex()).Append("\r\n");
        if (cookie is not null) text.Append("cookie: ").Append(cookie).Append("\r\n");
        text.Append("\r\n\r\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>
    /// Reads a datagram: the BT-SEARCH request line, a Port of 1-65535 and at least one well-formed Infohash (malformed
    /// ones are skipped, at most <see cref="MaxInfoHashes"/> taken). Header names are matched without regard to case.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<byte> datagram, out LsdAnnounce? announce)
    {
        announce = null;
        if (datagram.Length is 0 or > MaxDatagramBytes) return false;
        foreach (var b in datagram)
            if (b is 0 or > 0x7E) return false;
        Span<char> chars = stackalloc char[datagram.Length];
        Encoding.ASCII.GetChars(datagram, chars);
        ReadOnlySpan<char> rest = chars;

        if (!NextLine(ref rest, out var requestLine)) return false;
        // The method is what identifies the message (libtorrent checks only it); the target and version are not checked.
        var space = requestLine.IndexOf(' ');
        var method = space < 0 ? requestLine : requestLine[..space];
        if (!method.Equals("BT-SEARCH", StringComparison.OrdinalIgnoreCase)) return false;

        int? port = null;
        string? cookie = null;
        var hashes = new List<InfoHash>();
        while (NextLine(ref rest, out var line))
        {
            if (line.IsEmpty) break;
            var colon = line.IndexOf(':');
            if (colon <= 0) continue;
            var name = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (name.Equals("Port", StringComparison.OrdinalIgnoreCase))
            {
                if (port is not null) return false; // two ports: which one?
                if (!int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
                    return false;
                port = p;
            }
            else if (name.Equals("Infohash", StringComparison.OrdinalIgnoreCase))
            {
                if (hashes.Count < MaxInfoHashes && value.Length == 2 * InfoHash.Length && InfoHash.TryParse(value, out var hash) && !hashes.Contains(hash))
                    hashes.Add(hash);
            }
            else if (name.Equals("cookie", StringComparison.OrdinalIgnoreCase))
            {
                if (value.Length is > 0 and <= MaxCookieLength) cookie = value.ToString();
            }
        }
        if (port is null || hashes.Count == 0) return false;
        announce = new LsdAnnounce(port.Value, hashes, cookie);
        return true;
    }

    // A line ends at \r\n or a bare \n; false at the end of the text.
    private static bool NextLine(ref ReadOnlySpan<char> rest, out ReadOnlySpan<char> line)
    {
        if (rest.IsEmpty)
        {
            line = default;
            return false;
        }
        var end = rest.IndexOf('\n');
        if (end < 0)
        {
            line = rest;
            rest = default;
        }
        else
        {
            line = rest[..end];
            rest = rest[(end + 1)..];
        }
        if (line.EndsWith("\r")) line = line[..^1];
        return true;
    }
}
