using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace TorrentEdge.Engine.Metainfo;

/// <summary>The 20-byte SHA-1 identity of a torrent (BEP 3): SHA-1 over the bencoded info dictionary.</summary>
public readonly struct InfoHash : IEquatable<InfoHash>, IComparable<InfoHash>
{
    public const int Length = 20;
    private const string Base32Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    // Three words instead of an array: no allocation, cheap equality, usable as a dictionary key.
    private readonly ulong _a;
    private readonly ulong _b;
    private readonly uint _c;

    public InfoHash(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length) throw new ArgumentException("An info-hash has 20 bytes.", nameof(bytes));
        _a = BinaryPrimitives.ReadUInt64BigEndian(bytes);
        _b = BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]);
        _c = BinaryPrimitives.ReadUInt32BigEndian(bytes[16..]);
    }

    /// <summary>SHA-1 of <paramref name="infoDictionaryBytes"/>.</summary>
    public static InfoHash Compute(ReadOnlySpan<byte> infoDictionaryBytes)
    {
        Span<byte> hash = stackalloc byte[Length];
        SHA1.HashData(infoDictionaryBytes, hash);
        return new InfoHash(hash);
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

    /// <summary>40 lower-case hex digits.</summary>
    public string ToHex()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>32 upper-case RFC 4648 base32 characters (the older magnet form).</summary>
    public string ToBase32()
    {
        Span<byte> bytes = stackalloc byte[Length];
        CopyTo(bytes);
        Span<char> chars = stackalloc char[32];
        int buffer = 0, bits = 0, n = 0;
        foreach (var b in bytes)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                chars[n++] = Base32Alphabet[(buffer >> (bits - 5)) & 31];
                bits -= 5;
            }
        }

        return new string(chars);
    }

    /// <summary>Parses 40 hex digits or 32 base32 characters (either case).</summary>
    public static InfoHash Parse(string text)
        => TryParse(text, out var hash) ? hash : throw new FormatException("An info-hash is 40 hex digits or 32 base32 characters.");

    public static bool TryParse([NotNullWhen(true)] string? text, out InfoHash hash) => TryParse(text.AsSpan(), out hash);

    public static bool TryParse(ReadOnlySpan<char> text, out InfoHash hash)
    {
        hash = default;
        Span<byte> bytes = stackalloc byte[Length];
        if (text.Length == 40)
        {
            if (Convert.FromHexString(text, bytes, out _, out var written) != System.Buffers.OperationStatus.Done || written != Length) return false;
        }
        else if (text.Length == 32)
        {
            int buffer = 0, bits = 0, n = 0;
            foreach (var ch in text)
            {
                var v = ch switch
                {
                    >= 'A' and <= 'Z' => ch - 'A',
                    >= 'a' and <= 'z' => ch - 'a',
                    >= '2' and <= '7' => ch - '2' + 26,
                    _ => -1,
                };
                if (v < 0) return false;
                buffer = (buffer << 5) | v;
                bits += 5;
                if (bits >= 8)
                {
                    bytes[n++] = (byte)(buffer >> (bits - 8));
                    bits -= 8;
                }
            }
        }
        else
        {
            return false;
        }

        hash = new InfoHash(bytes);
        return true;
    }

    public bool Equals(InfoHash other) => _a == other._a && _b == other._b && _c == other._c;

    public override bool Equals(object? obj) => obj is InfoHash h && Equals(h);

    public override int GetHashCode() => HashCode.Combine(_a, _b, _c);

    public int CompareTo(InfoHash other)
    {
        var c = _a.CompareTo(other._a);
        if (c != 0) return c;
        c = _b.CompareTo(other._b);
        return c != 0 ? c : _c.CompareTo(other._c);
    }

    public override string ToString() => ToHex();

    public static bool operator ==(InfoHash left, InfoHash right) => left.Equals(right);

    public static bool operator !=(InfoHash left, InfoHash right) => !left.Equals(right);
}
