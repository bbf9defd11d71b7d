using System.Numerics;
using System.Security.Cryptography;

namespace TorrentEdge.Engine.Encryption;

/// <summary>
/// The Diffie-Hellman exchange of MSE: the spec's 768-bit prime, generator 2, a 160-bit private key, public keys and
/// the shared secret as 96 big-endian bytes. The platform's DH types do not take these parameters (and .NET has no
/// finite-field DH at all on Linux), so this is <see cref="BigInteger.ModPow"/>, run once per connection.
/// </summary>
public sealed class DiffieHellman
{
    /// <summary>Length of a public key and of the shared secret.</summary>
    public const int KeyLength = 96;

    private static readonly BigInteger Prime = BigInteger.Parse(
        "0FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563",
        System.Globalization.NumberStyles.HexNumber);

    private static readonly BigInteger Generator = 2;

    private readonly BigInteger _private;

    /// <summary>A fresh key pair from the system's random number generator.</summary>
    public DiffieHellman() : this(RandomNumberGenerator.GetBytes(20))
    {
    }

    /// <summary>A key pair from a given private key (tests); the spec asks for at least 128 bits, libtorrent uses 160.</summary>
    public DiffieHellman(ReadOnlySpan<byte> privateKey)
    {
        _private = new BigInteger(privateKey, isUnsigned: true, isBigEndian: true);
        if (_private.IsZero) throw new ArgumentException("The private key is zero.", nameof(privateKey));
        PublicKey = ToBytes(BigInteger.ModPow(Generator, _private, Prime));
    }

    /// <summary>Our public key Y = G^X mod P, 96 bytes big-endian.</summary>
    public byte[] PublicKey { get; }

    /// <summary>
    /// The shared secret S = Y^X mod P for the peer's 96-byte public key, or false when that key is one a hostile
    /// peer would pick to force a known secret (0, 1, P-1 or not below P).
    /// </summary>
    public bool TryComputeSecret(ReadOnlySpan<byte> peerPublicKey, Span<byte> secret)
    {
        if (peerPublicKey.Length != KeyLength || secret.Length < KeyLength) return false;
        var y = new BigInteger(peerPublicKey, isUnsigned: true, isBigEndian: true);
        if (y <= BigInteger.One || y >= Prime - BigInteger.One) return false;
        Write(BigInteger.ModPow(y, _private, Prime), secret[..KeyLength]);
        return true;
    }

    private static byte[] ToBytes(BigInteger value)
    {
        var bytes = new byte[KeyLength];
        Write(value, bytes);
        return bytes;
    }

    private static void Write(BigInteger value, Span<byte> destination)
    {
        // Left-padded with zeros: a value with leading zero bytes is still 96 bytes on the wire.
        destination.Clear();
        var length = value.GetByteCount(isUnsigned: true);
        value.TryWriteBytes(destination[(KeyLength - length)..], out _, isUnsigned: true, isBigEndian: true);
    }
}
