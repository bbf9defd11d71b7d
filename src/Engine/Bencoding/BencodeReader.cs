namespace TorrentEdge.Engine.Bencoding;

/// <summary>Limits and strictness for <see cref="BencodeReader"/>.</summary>
public sealed record BencodeReaderOptions
{
    public static BencodeReaderOptions Default { get; } = new();

    /// <summary>Deepest nesting of lists and dictionaries accepted.</summary>
    public int MaxDepth { get; init; } = 64;

    /// <summary>Largest input accepted, in bytes.</summary>
    public int MaxInputLength { get; init; } = 64 * 1024 * 1024;

    /// <summary>
    /// Require dictionary keys in ascending byte order. Duplicate keys are always rejected; turning
    /// this off accepts the unsorted dictionaries some old torrent makers wrote.
    /// </summary>
    public bool RequireSortedKeys { get; init; } = true;
}

/// <summary>
/// A strict bencode decoder. Strings are slices of the input (no copies), so the input must outlive
/// the values. Malformed input always yields a <see cref="BencodeException"/>.
/// </summary>
public static class BencodeReader
{
    /// <summary>Decodes exactly one value spanning the whole input.</summary>
    public static BValue Decode(ReadOnlyMemory<byte> input, BencodeReaderOptions? options = null)
    {
        var value = DecodePrefix(input, out var consumed, options);
        if (consumed != input.Length) throw new BencodeException(BencodeError.TrailingData, consumed);
        return value;
    }

    /// <summary>Decodes one value at the start of the input, which may be followed by other data.</summary>
    public static BValue DecodePrefix(ReadOnlyMemory<byte> input, out int consumed, BencodeReaderOptions? options = null)
    {
        options ??= BencodeReaderOptions.Default;
        if (input.Length > options.MaxInputLength) throw new BencodeException(BencodeError.InputTooLarge, options.MaxInputLength);
        var pos = 0;
        var value = ReadValue(input, ref pos, 0, options);
        consumed = pos;
        return value;
    }

    /// <summary>Decodes a value that must be a dictionary spanning the whole input.</summary>
    public static BDictionary DecodeDictionary(ReadOnlyMemory<byte> input, BencodeReaderOptions? options = null)
        => Decode(input, options) as BDictionary ?? throw new BencodeException(BencodeError.UnexpectedByte, 0);

    private static BValue ReadValue(ReadOnlyMemory<byte> input, ref int pos, int depth, BencodeReaderOptions options)
    {
        var span = input.Span;
        if (pos >= span.Length) throw new BencodeException(BencodeError.UnexpectedEnd, pos);
        var start = pos;
        BValue value;
        switch (span[pos])
        {
            case (byte)'i':
                pos++;
                value = new BInteger(ReadInteger(span, ref pos, (byte)'e'));
                break;
            case >= (byte)'0' and <= (byte)'9':
                value = ReadString(input, ref pos);
                break;
            case (byte)'l':
            {
                if (depth >= options.MaxDepth) throw new BencodeException(BencodeError.NestingTooDeep, pos);
                pos++;
                var items = new List<BValue>();
                while (true)
                {
                    if (pos >= span.Length) throw new BencodeException(BencodeError.UnexpectedEnd, pos);
                    if (span[pos] == (byte)'e') break;
                    items.Add(ReadValue(input, ref pos, depth + 1, options));
                }

                pos++;
                value = new BList(items, true);
                break;
            }

            case (byte)'d':
            {
                if (depth >= options.MaxDepth) throw new BencodeException(BencodeError.NestingTooDeep, pos);
                pos++;
                var entries = new List<KeyValuePair<BString, BValue>>();
                var sorted = true;
                while (true)
                {
                    if (pos >= span.Length) throw new BencodeException(BencodeError.UnexpectedEnd, pos);
                    if (span[pos] == (byte)'e') break;
                    if (span[pos] is < (byte)'0' or > (byte)'9') throw new BencodeException(BencodeError.KeyNotString, pos);
                    var keyOffset = pos;
                    var key = ReadString(input, ref pos);
                    if (entries.Count > 0)
                    {
                        var c = entries[^1].Key.Span.SequenceCompareTo(key.Span);
                        if (c == 0) throw new BencodeException(BencodeError.DuplicateKey, keyOffset);
                        if (c > 0)
                        {
                            if (options.RequireSortedKeys) throw new BencodeException(BencodeError.UnsortedKeys, keyOffset);
                            foreach (var e in entries)
                            {
                                if (e.Key.Span.SequenceEqual(key.Span)) throw new BencodeException(BencodeError.DuplicateKey, keyOffset);
                            }

                            sorted = false;
                        }
                    }

                    var item = ReadValue(input, ref pos, depth + 1, options);
                    entries.Add(new(key, item));
                }

                pos++;
                if (!sorted) entries.Sort(static (a, b) => a.Key.Span.SequenceCompareTo(b.Key.Span));
                value = new BDictionary(entries) { WasCanonicalInInput = sorted };
                break;
            }

            default:
                throw new BencodeException(BencodeError.UnexpectedByte, pos);
        }

        value.Offset = start;
        value.Raw = input[start..pos];
        return value;
    }

    private static BString ReadString(ReadOnlyMemory<byte> input, ref int pos)
    {
        var span = input.Span;
        var lengthOffset = pos;
        var length = ReadInteger(span, ref pos, (byte)':', allowNegative: false);
        if (length > span.Length - pos) throw new BencodeException(BencodeError.StringExceedsInput, lengthOffset);
        var s = new BString(input.Slice(pos, (int)length));
        pos += (int)length;
        return s;
    }

    /// <summary>Reads canonical decimal digits up to <paramref name="terminator"/> and consumes it.</summary>
    private static long ReadInteger(ReadOnlySpan<byte> span, ref int pos, byte terminator, bool allowNegative = true)
    {
        var start = pos;
        var negative = false;
        if (pos < span.Length && span[pos] == (byte)'-')
        {
            if (!allowNegative) throw new BencodeException(BencodeError.InvalidStringLength, pos);
            negative = true;
            pos++;
        }

        var digitsStart = pos;
        // Accumulate as a negative number so long.MinValue is representable.
        long acc = 0;
        while (true)
        {
            if (pos >= span.Length) throw new BencodeException(BencodeError.UnexpectedEnd, pos);
            var b = span[pos];
            if (b == terminator) break;
            if (b is < (byte)'0' or > (byte)'9')
            {
                throw new BencodeException(allowNegative ? BencodeError.InvalidInteger : BencodeError.InvalidStringLength, pos);
            }

            var d = b - '0';
            if (acc < (long.MinValue + d) / 10) throw new BencodeException(BencodeError.IntegerOverflow, start);
            acc = (acc * 10) - d;
            pos++;
        }

        var digits = pos - digitsStart;
        if (digits == 0)
        {
            throw new BencodeException(allowNegative ? BencodeError.InvalidInteger : BencodeError.InvalidStringLength, pos);
        }

        if (span[digitsStart] == (byte)'0' && (digits > 1 || negative))
        {
            throw new BencodeException(BencodeError.NonCanonicalInteger, start);
        }

        pos++; // terminator
        if (negative) return acc;
        if (acc == long.MinValue) throw new BencodeException(BencodeError.IntegerOverflow, start);
        return -acc;
    }
}
