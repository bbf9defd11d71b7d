using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Numerics;
using System.Security.Cryptography;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Dht;

/// <summary>A 160-bit DHT node id (BEP 5); distances are the XOR of two ids, compared as unsigned big-endian numbers.</summary>
public readonly struct NodeId : IEquatable<NodeId>, IComparable<NodeId>
{
    public const int Length = 20;

    // Three words as in InfoHash: no allocation, cheap XOR and comparison.
    private readonly ulong _a;
    private readonly ulong _b;
    private readonly uint _c;

    private NodeId(ulong a, ulong b, uint c)
    {
        _a = a;
        _b = b;
        _c = c;
    }

    public NodeId(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length) throw new ArgumentException("A node id has 20 bytes.", nameof(bytes));
        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
    }

    public static NodeId FromInfoHash(InfoHash infoHash)
    {
        Span<byte> b = stackalloc byte[Length];
        infoHash.CopyTo(b);
        return new NodeId(b);
    }

    public static NodeId Random()
    {
        Span<byte> b = stackalloc byte[Length];
        RandomNumberGenerator.Fill(b);
        return new NodeId(b);
    }

    public void CopyTo(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64BigEndian(destination, _a);
        BinaryPrimitives.WriteUInt64BigEndian(destination[8..], _b);
        BinaryPrimitives.WriteUInt32BigEndian(destination[16..], _c);
    }

    public byte[] ToArray()
    {
        var bytes = new byte[Length];
        CopyTo(bytes);
        return bytes;
    }

    /// <summary>The XOR distance to <paramref name="other"/>.</summary>
    public NodeId Xor(NodeId other) => new(_a ^ other._a, _b ^ other._b, _c ^ other._c);

    /// <summary>Leading zero bits (160 for the zero id): the length of the prefix two ids share, applied to their XOR.</summary>
    public int LeadingZeros =>
        _a != 0 ? BitOperations.LeadingZeroCount(_a)
        : _b != 0 ? 64 + BitOperations.LeadingZeroCount(_b)
        : 128 + BitOperations.LeadingZeroCount(_c);

    /// <summary>Bits this id shares with <paramref name="other"/> from the top.</summary>
    public int CommonPrefixLength(NodeId other) => Math.Min(160, Xor(other).LeadingZeros);

    /// <summary>A random id sharing exactly the first <paramref name="prefix"/> bits with this one (bucket refresh targets).</summary>
    public NodeId RandomWithPrefix(int prefix)
    {
        Span<byte> mine = stackalloc byte[Length];
        Span<byte> rnd = stackalloc byte[Length];
        CopyTo(mine);
        RandomNumberGenerator.Fill(rnd);
        for (var bit = 0; bit < Math.Min(prefix, 160); bit++)
        {
            var mask = (byte)(0x80 >> (bit & 7));
            rnd[bit >> 3] = (byte)((rnd[bit >> 3] & ~mask) | (mine[bit >> 3] & mask));
        }
        if (prefix < 160)
        {
            // The next bit differs, so the target falls in the bucket for exactly this prefix length.
            var mask = (byte)(0x80 >> (prefix & 7));
            rnd[prefix >> 3] = (byte)((rnd[prefix >> 3] & ~mask) | (~mine[prefix >> 3] & mask));
        }
        return new NodeId(rnd);
    }

    public int CompareTo(NodeId other) =>
        _a != other._a ? _a.CompareTo(other._a) : _b != other._b ? _b.CompareTo(other._b) : _c.CompareTo(other._c);

    public bool Equals(NodeId other) => _a == other._a && _b == other._b && _c == other._c;

    public override bool Equals(object? obj) => obj is NodeId n && Equals(n);

    public override int GetHashCode() => HashCode.Combine(_a, _b, _c);

    public static bool operator ==(NodeId left, NodeId right) => left.Equals(right);

    public static bool operator !=(NodeId left, NodeId right) => !left.Equals(right);

    public static bool operator <(NodeId left, NodeId right) => left.CompareTo(right) < 0;

    public static bool operator >(NodeId left, NodeId right) => left.CompareTo(right) > 0;

    public static bool operator <=(NodeId left, NodeId right) => left.CompareTo(right) <= 0;

    public static bool operator >=(NodeId left, NodeId right) => left.CompareTo(right) >= 0;

    public override string ToString()
    {
        Span<byte> b = stackalloc byte[Length];
        CopyTo(b);
        return Convert.ToHexStringLower(b);
    }
}

/// <summary>
/// BEP 42: a node id whose first 21 bits derive from its owner's external address, so an attacker cannot pick ids next
/// to a target. Ids of local addresses (loopback, private ranges, link-local) are exempt, as in libtorrent.
/// </summary>
public static class NodeIdSecurity
{
    private static readonly byte[] V4Mask = [0x03, 0x0f, 0x3f, 0xff];
    private static readonly byte[] V6Mask = [0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

    /// <summary>An id for <paramref name="address"/> as BEP 42 derives it, with random bits elsewhere; <paramref name="r"/> is the 3-bit salt (random when null).</summary>
    public static NodeId Generate(IPAddress address, byte? r = null)
    {
        Span<byte> id = stackalloc byte[NodeId.Length];
        RandomNumberGenerator.Fill(id);
        var salt = (byte)((r ?? id[19]) & 7);
        var crc = Crc(address, salt);
        id[0] = (byte)(crc >> 24);
        id[1] = (byte)(crc >> 16);
        id[2] = (byte)((crc >> 8 & 0xf8) | (uint)(id[2] & 7));
        id[19] = salt;
        return new NodeId(id);
    }

    /// <summary>True when <paramref name="id"/> is what BEP 42 allows for <paramref name="address"/> (always for local addresses).</summary>
    public static bool IsValid(NodeId id, IPAddress address)
    {
        if (IsLocal(address)) return true;
        Span<byte> b = stackalloc byte[NodeId.Length];
        id.CopyTo(b);
        var crc = Crc(address, (byte)(b[19] & 7));
        return b[0] == (byte)(crc >> 24) && b[1] == (byte)(crc >> 16) && (b[2] & 0xf8) == (byte)(crc >> 8 & 0xf8);
    }

    /// <summary>The addresses libtorrent's <c>is_local</c> exempts: 10/8, 172.16/12, 192.168/16, 169.254/16, 127/8, and IPv6 link-local, unique-local and loopback.</summary>
    public static bool IsLocal(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
            return IPAddress.IsLoopback(address) || address.IsIPv6LinkLocal || address.IsIPv6UniqueLocal || address.IsIPv6SiteLocal;
        Span<byte> b = stackalloc byte[4];
        address.TryWriteBytes(b, out _);
        return b[0] == 10 || b[0] == 127 || (b[0] == 172 && (b[1] & 0xf0) == 16) || (b[0] == 192 && b[1] == 168) || (b[0] == 169 && b[1] == 254);
    }

    private static uint Crc(IPAddress address, byte salt)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        Span<byte> ip = stackalloc byte[16];
        address.TryWriteBytes(ip, out var n);
        var mask = n == 4 ? V4Mask : V6Mask;
        var len = mask.Length;
        for (var i = 0; i < len; i++) ip[i] &= mask[i];
        ip[0] |= (byte)(salt << 5);
        var crc = 0xffffffffu;
        for (var i = 0; i < len; i++) crc = BitOperations.Crc32C(crc, ip[i]);
        return ~crc;
    }
}
