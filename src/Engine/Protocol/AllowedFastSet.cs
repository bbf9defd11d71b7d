using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace TorrentEdge.Engine.Protocol;

/// <summary>The BEP 6 canonical allowed-fast set: pieces a peer may download from us while choked.</summary>
public static class AllowedFastSet
{
    /// <summary>How many pieces we grant by default (libtorrent and the BEP example use 10 or fewer).</summary>
    public const int DefaultCount = 10;

    /// <summary>
    /// Writes up to <paramref name="destination"/>.Length piece indices (never more than <paramref name="pieceCount"/>)
    /// in the spec's order and returns how many. Only IPv4 (or IPv4-mapped) addresses have a canonical set; others get none.
    /// </summary>
    public static int Generate(ReadOnlySpan<byte> infoHash, IPAddress address, int pieceCount, Span<int> destination)
    {
        if (infoHash.Length != 20) throw new ArgumentException("An info-hash is 20 bytes.", nameof(infoHash));
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetwork) return 0;

        var k = Math.Min(destination.Length, pieceCount);
        Span<byte> x = stackalloc byte[24];
        if (!address.TryWriteBytes(x, out _)) return 0;
        x[3] = 0; // the peer's /24, so one NAT's peers share a set
        infoHash.CopyTo(x[4..]);

        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(x, hash);
        Span<byte> previous = stackalloc byte[20];
        var count = 0;
        for (var round = 0; count < k; round++)
        {
            if (round > 0)
            {
                hash.CopyTo(previous);
                SHA1.HashData(previous, hash);
            }
            for (var i = 0; i < 5 && count < k; i++)
            {
                var index = (int)(BinaryPrimitives.ReadUInt32BigEndian(hash[(i * 4)..]) % (uint)pieceCount);
                if (!destination[..count].Contains(index)) destination[count++] = index;
            }
        }
        return count;
    }
}
