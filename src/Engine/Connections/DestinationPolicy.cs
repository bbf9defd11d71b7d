using System.Net;
using System.Net.Sockets;

namespace TorrentEdge.Engine.Connections;

/// <summary>The kind of address a destination is, as far as the <see cref="DestinationPolicy"/> cares.</summary>
public enum DestinationKind
{
    /// <summary>A global unicast address: the internet.</summary>
    Public,

    /// <summary>127.0.0.0/8, ::1.</summary>
    Loopback,

    /// <summary>RFC 1918 (10/8, 172.16/12, 192.168/16), shared address space (100.64/10), unique-local fc00::/7, site-local fec0::/10.</summary>
    Private,

    /// <summary>169.254/16 (including the cloud metadata service 169.254.169.254) and fe80::/10.</summary>
    LinkLocal,

    /// <summary>Unspecified, multicast, broadcast, documentation, benchmarking and reserved ranges: never a tracker or a peer.</summary>
    Reserved,
}

/// <summary>A decision of the <see cref="DestinationPolicy"/>: allowed or not, what the address is, and why.</summary>
public readonly record struct DestinationDecision(bool Allowed, DestinationKind Kind, string Reason);

/// <summary>
/// Where the engine may dial on a user's say-so: tracker URLs (and every HTTP redirect they answer with, checked at
/// connect time after name resolution, so DNS cannot point around it), UDP trackers, and peers named in magnets (x.pe) or
/// given with a torrent. Web seeds, when the engine fetches them, go through <see cref="Check(Uri)"/> the same way.
/// A service that downloads for many users must not let a torrent make its workers reach internal hosts (SSRF): the
/// cloud metadata service, databases, admin ports. Peers handed out by a swarm's trackers and peer exchange are not
/// checked: peers on a LAN are ordinary BitTorrent, and those dials carry only the BitTorrent handshake.
/// </summary>
public sealed record DestinationPolicy
{
    /// <summary>Dials anything: the library's default, for a client on someone's own machine or LAN.</summary>
    public static DestinationPolicy Unrestricted { get; } = new()
    {
        AllowLoopback = true, AllowPrivate = true, AllowLinkLocal = true, AllowReserved = true,
    };

    /// <summary>Public addresses only, plus <see cref="AllowedNetworks"/>: what a multi-user service runs with in production.</summary>
    public static DestinationPolicy PublicOnly { get; } = new();

    /// <summary><see cref="PublicOnly"/> plus loopback: Development and tests, whose trackers and peers run on 127.0.0.1.</summary>
    public static DestinationPolicy PublicAndLoopback { get; } = new() { AllowLoopback = true };

    public bool AllowLoopback { get; init; }
    public bool AllowPrivate { get; init; }
    public bool AllowLinkLocal { get; init; }
    public bool AllowReserved { get; init; }

    /// <summary>Networks allowed whatever their kind (the allow-list), e.g. a tracker on 10.1.2.3/32.</summary>
    public IReadOnlyList<IPNetwork> AllowedNetworks { get; init; } = [];

    /// <summary>True when nothing is refused, so callers can skip the checks (and the name resolution) entirely.</summary>
    public bool IsUnrestricted => AllowLoopback && AllowPrivate && AllowLinkLocal && AllowReserved;

    public DestinationDecision Check(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        var kind = Classify(address);
        foreach (var network in AllowedNetworks)
        {
            if (network.Contains(address))
            {
                return new DestinationDecision(true, kind, $"{address} is in the allow-list ({network})");
            }
        }
        var allowed = kind switch
        {
            DestinationKind.Public => true,
            DestinationKind.Loopback => AllowLoopback,
            DestinationKind.Private => AllowPrivate,
            DestinationKind.LinkLocal => AllowLinkLocal,
            _ => AllowReserved,
        };
        return new DestinationDecision(allowed, kind, allowed
            ? $"{address} is {Describe(kind)}, which is allowed"
            : $"{address} is {Describe(kind)}, which the destination policy refuses");
    }

    /// <summary>
    /// The decision for a URL whose host is an IP literal; for a host name, allowed here (its addresses are checked when
    /// it is resolved and dialled, see <see cref="FilterAsync"/>).
    /// </summary>
    public DestinationDecision Check(Uri uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        return IPAddress.TryParse(uri.IdnHost.Trim('[', ']'), out var literal)
            ? Check(literal)
            : new DestinationDecision(true, DestinationKind.Public, $"{uri.IdnHost} is checked once resolved");
    }

    /// <summary>
    /// The addresses of <paramref name="host"/> that may be dialled, resolved once so the check and the dial see the same
    /// addresses. Throws <see cref="DestinationRefusedException"/> when there are none.
    /// </summary>
    public async ValueTask<IPAddress[]> FilterAsync(string host, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        if (IsUnrestricted)
        {
            return addresses;
        }
        var allowed = addresses.Where(a => Check(a).Allowed).ToArray();
        if (allowed.Length == 0)
        {
            var reason = addresses.Length == 0 ? $"{host} has no address" : Check(addresses[0]).Reason;
            throw new DestinationRefusedException($"Refused to dial {host}: {reason}.");
        }
        return allowed;
    }

    /// <summary>What an address is, by the IANA special-purpose registries (RFC 6890 and its updates).</summary>
    public static DestinationKind Classify(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (IPAddress.IsLoopback(address))
        {
            return DestinationKind.Loopback;
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            Span<byte> b = stackalloc byte[4];
            address.TryWriteBytes(b, out _);
            return (b[0], b[1]) switch
            {
                (10, _) => DestinationKind.Private,
                (172, >= 16 and <= 31) => DestinationKind.Private,
                (192, 168) => DestinationKind.Private,
                (100, >= 64 and <= 127) => DestinationKind.Private,
                (169, 254) => DestinationKind.LinkLocal,
                (0, _) => DestinationKind.Reserved,
                (192, 0) when b[2] is 0 or 2 => DestinationKind.Reserved,
                (198, 18 or 19) => DestinationKind.Reserved,
                (198, 51) when b[2] == 100 => DestinationKind.Reserved,
                (203, 0) when b[2] == 113 => DestinationKind.Reserved,
                ( >= 224, _) => DestinationKind.Reserved,
                _ => DestinationKind.Public,
            };
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            if (address.Equals(IPAddress.IPv6None) || address.IsIPv6Multicast)
            {
                return DestinationKind.Reserved;
            }
            if (address.IsIPv6LinkLocal)
            {
                return DestinationKind.LinkLocal;
            }
            Span<byte> b = stackalloc byte[16];
            address.TryWriteBytes(b, out _);
            if ((b[0] & 0xFE) == 0xFC || address.IsIPv6SiteLocal)
            {
                return DestinationKind.Private;
            }
            // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address that the packet ends up at.
            if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B && b[4..12].IndexOfAnyExcept((byte)0) < 0)
            {
                return Classify(new IPAddress(b[12..16]));
            }
            if (b[0] == 0x20 && b[1] == 0x02)
            {
                return Classify(new IPAddress(b[2..6]));
            }
            // Documentation (2001:db8::/32).
            if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8)
            {
                return DestinationKind.Reserved;
            }
            return DestinationKind.Public;
        }
        return DestinationKind.Reserved;
    }

    private static string Describe(DestinationKind kind) => kind switch
    {
        DestinationKind.Public => "a public address",
        DestinationKind.Loopback => "a loopback address",
        DestinationKind.Private => "a private or unique-local address",
        DestinationKind.LinkLocal => "a link-local address (such as the cloud metadata service)",
        _ => "a reserved, multicast or unspecified address",
    };
}

/// <summary>A dial the <see cref="DestinationPolicy"/> refused; nothing was sent.</summary>
public sealed class DestinationRefusedException(string message) : IOException(message);
