using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace TorrentEdge.Engine.Bencoding;

/// <summary>Canonical bencode encoder (dictionary keys written in byte order).</summary>
public static class BencodeWriter
{
    public static byte[] Encode(BValue value)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        Write(value, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(BValue value, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(value);
        switch (value)
        {
            case BInteger i:
                WriteInteger(output, i.Value);
                break;
            case BString s:
                WriteString(output, s.Span);
                break;
            case BList l:
                WriteByte(output, (byte)'l');
                foreach (var item in l) Write(item, output);
                WriteByte(output, (byte)'e');
                break;
            case BDictionary d:
                WriteByte(output, (byte)'d');
                foreach (var (k, v) in d.SortedEntries())
                {
                    WriteString(output, k.Span);
                    Write(v, output);
                }

                WriteByte(output, (byte)'e');
                break;
            default:
                throw new ArgumentException("Unknown bencode value type.", nameof(value));
        }
    }

    public static void WriteInteger(IBufferWriter<byte> output, long value)
    {
        var span = output.GetSpan(22);
        span[0] = (byte)'i';
        Utf8Formatter.TryFormat(value, span[1..], out var n);
        span[n + 1] = (byte)'e';
        output.Advance(n + 2);
    }

    public static void WriteString(IBufferWriter<byte> output, ReadOnlySpan<byte> bytes)
    {
        var span = output.GetSpan(12 + bytes.Length);
        Utf8Formatter.TryFormat(bytes.Length, span, out var n);
        span[n] = (byte)':';
        bytes.CopyTo(span[(n + 1)..]);
        output.Advance(n + 1 + bytes.Length);
    }

    public static void WriteString(IBufferWriter<byte> output, string text)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            var n = Encoding.UTF8.GetBytes(text, rented);
            WriteString(output, rented.AsSpan(0, n));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static void WriteByte(IBufferWriter<byte> output, byte b)
    {
        output.GetSpan(1)[0] = b;
        output.Advance(1);
    }
}
