using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace TorrentEdge.Engine.Encryption;

/// <summary>
/// The RC4 stream cipher, for message stream encryption only (MSE/PE requires it; .NET ships no RC4, so this is
/// the cipher in a few lines). One instance is one direction of one connection: it transforms in place over spans
/// and allocates nothing after construction.
/// </summary>
public sealed class Rc4
{
    private readonly byte[] _state = new byte[256];
    private byte _i;
    private byte _j;

    /// <summary>Keys the cipher and throws away the first <paramref name="discard"/> bytes of keystream (MSE: 1024).</summary>
    public Rc4(ReadOnlySpan<byte> key, int discard = 0)
    {
        if (key.IsEmpty || key.Length > 256) throw new ArgumentException("An RC4 key is 1 to 256 bytes.", nameof(key));
        ArgumentOutOfRangeException.ThrowIfNegative(discard);
        var s = _state;
        for (var k = 0; k < 256; k++) s[k] = (byte)k;
        byte j = 0;
        for (var k = 0; k < 256; k++)
        {
            j = (byte)(j + s[k] + key[k % key.Length]);
            (s[k], s[j]) = (s[j], s[k]);
        }
        Skip(discard);
    }

    /// <summary>Advances the keystream by <paramref name="count"/> bytes without output.</summary>
    public void Skip(int count)
    {
        Span<byte> scratch = stackalloc byte[256];
        while (count > 0)
        {
            var n = Math.Min(count, scratch.Length);
            scratch[..n].Clear();
            Apply(scratch[..n]);
            count -= n;
        }
    }

    /// <summary>Encrypts or decrypts <paramref name="data"/> in place (XOR with the keystream).</summary>
    public void Apply(Span<byte> data) => Apply(data, data);

    /// <summary>Writes <paramref name="source"/> XOR keystream to <paramref name="destination"/> (which may be the same memory).</summary>
    public void Apply(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (destination.Length < source.Length) throw new ArgumentException("The destination is shorter than the source.", nameof(destination));
        // Byte indices are always 0..255, so the state is read without bounds checks; the loop is the whole cost
        // of encryption on the hot path.
        ref var s = ref MemoryMarshal.GetArrayDataReference(_state);
        ref var src = ref MemoryMarshal.GetReference(source);
        ref var dst = ref MemoryMarshal.GetReference(destination);
        uint i = _i, j = _j;
        for (var n = 0; n < source.Length; n++)
        {
            i = (i + 1) & 0xFF;
            var si = Unsafe.Add(ref s, i);
            j = (j + si) & 0xFF;
            var sj = Unsafe.Add(ref s, j);
            Unsafe.Add(ref s, i) = sj;
            Unsafe.Add(ref s, j) = si;
            Unsafe.Add(ref dst, n) = (byte)(Unsafe.Add(ref src, n) ^ Unsafe.Add(ref s, (byte)(si + sj)));
        }
        _i = (byte)i;
        _j = (byte)j;
    }
}
