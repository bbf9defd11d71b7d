using System.Net;
using System.Security.Cryptography;
using TorrentEdge.Engine.Common;

namespace TorrentEdge.Engine.Dht;

/// <summary>
/// The write tokens of get_peers and announce_peer (BEP 5): a hash of the requester's address and a secret that rotates
/// every 5 minutes; a token is accepted under the current or the previous secret, so it lives 5 to 10 minutes and proves
/// the announcer can receive at the address it announces from.
/// </summary>
public sealed class DhtTokens
{
    public static readonly TimeSpan RotateEvery = TimeSpan.FromMinutes(5);
    private const int TokenLength = 8;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private byte[] _current = RandomNumberGenerator.GetBytes(16);
    private byte[] _previous = RandomNumberGenerator.GetBytes(16);
    private long _rotatedAt;

    public DhtTokens(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _rotatedAt = _time.NowMilliseconds();
    }

    public byte[] Create(IPAddress address)
    {
        lock (_gate)
        {
            Rotate();
            return Compute(_current, address);
        }
    }

    public bool Validate(ReadOnlySpan<byte> token, IPAddress address)
    {
        lock (_gate)
        {
            Rotate();
            return CryptographicOperations.FixedTimeEquals(token, Compute(_current, address)) ||
                   CryptographicOperations.FixedTimeEquals(token, Compute(_previous, address));
        }
    }

    private void Rotate()
    {
        var now = _time.NowMilliseconds();
        var steps = (now - _rotatedAt) / (long)RotateEvery.TotalMilliseconds;
        if (steps <= 0) return;
        // Two periods or more without a rotation: both secrets are stale.
        _previous = steps == 1 ? _current : RandomNumberGenerator.GetBytes(16);
        _current = RandomNumberGenerator.GetBytes(16);
        _rotatedAt = now;
    }

    private static byte[] Compute(byte[] secret, IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        Span<byte> input = stackalloc byte[32];
        secret.CopyTo(input);
        address.TryWriteBytes(input[16..], out var n);
        Span<byte> hash = stackalloc byte[20];
        SHA1.HashData(input[..(16 + n)], hash);
        return hash[..TokenLength].ToArray();
    }
}
