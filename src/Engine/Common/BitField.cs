using System.Numerics;

namespace TorrentEdge.Engine.Common;

/// <summary>
/// A fixed-length set of piece flags in the wire layout of BEP 3 (bit 7 of byte 0 is piece 0),
/// so it can be sent and received without conversion. Not thread-safe: one owner writes it.
/// </summary>
public sealed class BitField : IEquatable<BitField>
{
    private readonly byte[] _bytes;
    private int _trueCount;

    public BitField(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
        _bytes = new byte[ByteLengthFor(length)];
    }

    /// <summary>Number of pieces.</summary>
    public int Length { get; }

    /// <summary>Number of set flags.</summary>
    public int TrueCount => _trueCount;

    public bool AllTrue => _trueCount == Length;

    public bool AllFalse => _trueCount == 0;

    /// <summary>The wire bytes (spare bits at the end are always zero).</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    public static int ByteLengthFor(int length) => (length + 7) / 8;

    public bool this[int index]
    {
        get
        {
            if ((uint)index >= (uint)Length) throw new ArgumentOutOfRangeException(nameof(index));
            return (_bytes[index >> 3] & (0x80 >> (index & 7))) != 0;
        }
        set
        {
            if ((uint)index >= (uint)Length) throw new ArgumentOutOfRangeException(nameof(index));
            ref var b = ref _bytes[index >> 3];
            var mask = (byte)(0x80 >> (index & 7));
            var was = (b & mask) != 0;
            if (was == value) return;
            if (value) { b |= mask; _trueCount++; }
            else { b &= (byte)~mask; _trueCount--; }
        }
    }

    /// <summary>Builds a bitfield from wire bytes; rejects a wrong length or set spare bits (BEP 3 says drop the peer).</summary>
    public static bool TryFromBytes(ReadOnlySpan<byte> bytes, int length, out BitField? bitField)
    {
        bitField = null;
        if (bytes.Length != ByteLengthFor(length)) return false;
        var spare = bytes.Length * 8 - length;
        if (spare > 0 && (bytes[^1] & ((1 << spare) - 1)) != 0) return false;
        var result = new BitField(length);
        bytes.CopyTo(result._bytes);
        result._trueCount = PopCount(bytes);
        bitField = result;
        return true;
    }

    public void SetAll(bool value)
    {
        if (!value) { Array.Clear(_bytes); _trueCount = 0; return; }
        _bytes.AsSpan().Fill(0xFF);
        var spare = _bytes.Length * 8 - Length;
        if (spare > 0) _bytes[^1] &= (byte)(0xFF << spare);
        _trueCount = Length;
    }

    /// <summary>Copies the flags of <paramref name="other"/> (same length) into this one.</summary>
    public void CopyFrom(BitField other)
    {
        if (other.Length != Length) throw new ArgumentException("Lengths differ.", nameof(other));
        other._bytes.CopyTo(_bytes, 0);
        _trueCount = other._trueCount;
    }

    public BitField Clone()
    {
        var copy = new BitField(Length);
        copy.CopyFrom(this);
        return copy;
    }

    /// <summary>Index of the first set flag at or after <paramref name="start"/>, or -1.</summary>
    public int NextSet(int start) => Next(start, set: true);

    /// <summary>Index of the first clear flag at or after <paramref name="start"/>, or -1.</summary>
    public int NextClear(int start) => Next(start, set: false);

    private int Next(int start, bool set)
    {
        for (var i = Math.Max(start, 0); i < Length;)
        {
            var b = _bytes[i >> 3];
            if (!set) b = (byte)~b;
            // Mask off bits before i within this byte, then skip empty bytes quickly.
            b &= (byte)(0xFF >> (i & 7));
            if (b == 0) { i = (i | 7) + 1; continue; }
            var index = (i & ~7) + BitOperations.LeadingZeroCount((uint)b) - 24;
            return index < Length ? index : -1;
        }
        return -1;
    }

    public bool Equals(BitField? other) =>
        other is not null && other.Length == Length && other._bytes.AsSpan().SequenceEqual(_bytes);

    public override bool Equals(object? obj) => Equals(obj as BitField);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Length);
        hash.AddBytes(_bytes);
        return hash.ToHashCode();
    }

    private static int PopCount(ReadOnlySpan<byte> bytes)
    {
        var count = 0;
        foreach (var b in bytes) count += BitOperations.PopCount(b);
        return count;
    }
}
