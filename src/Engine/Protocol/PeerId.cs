using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace TorrentEdge.Engine.Protocol;

/// <summary>A 20-byte BitTorrent peer id, held by value so comparing and keying peers does not allocate.</summary>
public readonly struct PeerId : IEquatable<PeerId>
{
    public const int Length = 20;

    private readonly Bytes20 _bytes;

    private PeerId(Bytes20 bytes) => _bytes = bytes;

    /// <summary>Copies exactly 20 bytes.</summary>
    public static PeerId FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length) throw new ArgumentException("A peer id is 20 bytes.", nameof(bytes));
        var b = default(Bytes20);
        bytes.CopyTo(b);
        return new PeerId(b);
    }

    /// <summary>An Azureus-style id: the ASCII prefix (e.g. -TE0100-) followed by random bytes.</summary>
    public static PeerId Generate(string prefix = EngineInfo.PeerIdPrefix)
    {
        var b = default(Bytes20);
        Span<byte> span = b;
        var written = Encoding.ASCII.GetBytes(prefix.AsSpan(0, Math.Min(prefix.Length, Length)), span);
        // Printable random tail: some clients log peer ids as text.
        const string alphabet = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        for (var i = written; i < Length; i++) span[i] = (byte)alphabet[RandomNumberGenerator.GetInt32(alphabet.Length)];
        return new PeerId(b);
    }

    /// <summary>The 20 bytes.</summary>
    [System.Diagnostics.CodeAnalysis.UnscopedRef]
    public ReadOnlySpan<byte> Span => _bytes;

    public void CopyTo(Span<byte> destination) => ((ReadOnlySpan<byte>)_bytes).CopyTo(destination);

    public byte[] ToArray() => ((ReadOnlySpan<byte>)_bytes).ToArray();

    public bool Equals(PeerId other) => ((ReadOnlySpan<byte>)_bytes).SequenceEqual(other._bytes);

    public bool SequenceEqual(ReadOnlySpan<byte> other) => ((ReadOnlySpan<byte>)_bytes).SequenceEqual(other);

    public override bool Equals(object? obj) => obj is PeerId other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.AddBytes(_bytes);
        return hash.ToHashCode();
    }

    /// <summary>Printable bytes as text, others as %XX (like a tracker query), for logs.</summary>
    public override string ToString()
    {
        ReadOnlySpan<byte> span = _bytes;
        var sb = new StringBuilder(Length * 3);
        foreach (var c in span)
        {
            if (c is >= 0x20 and < 0x7F) sb.Append((char)c);
            else sb.Append('%').Append(c.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    public static bool operator ==(PeerId left, PeerId right) => left.Equals(right);

    public static bool operator !=(PeerId left, PeerId right) => !left.Equals(right);
}

/// <summary>Twenty bytes stored inline (a SHA-1 digest or a peer id).</summary>
[InlineArray(20)]
internal struct Bytes20
{
    private byte _element0;
}
