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

    /// <summary>
    /// Most values (integers, strings, dictionary keys, lists, dictionaries) any one input may hold. A decoded value costs
    /// tens of bytes against the two bytes of an <c>le</c>, so without an absolute cap a large input multiplies into memory.
    /// </summary>
    public int MaxNodes { get; init; } = 1_000_000;

    /// <summary>
    /// The cap that grows with the input: one value per this many input bytes (plus <see cref="MinNodes"/>). Real
    /// metainfo spends far more than 4 bytes per value (20-byte piece hashes, key names, file paths); an <c>le</c>
    /// bomb spends 2. Zero turns the proportional cap off, leaving <see cref="MaxNodes"/>.
    /// </summary>
    public int BytesPerNode { get; init; } = 4;

    /// <summary>Values always allowed whatever the input's length, so small messages are never refused by the ratio.</summary>
    public int MinNodes { get; init; } = 1024;

    /// <summary>The number of values an input of <paramref name="inputLength"/> bytes may hold.</summary>
    public int NodeLimit(int inputLength)
    {
        var proportional = BytesPerNode > 0 ? (long)MinNodes + (inputLength / BytesPerNode) : long.MaxValue;
        return (int)Math.Min(MaxNodes, proportional);
    }
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
        // Every value takes at least two bytes, so only inputs that could exceed the cap are counted first. Counting
        // before building is what keeps a refused bomb from allocating anything.
        var limit = options.NodeLimit(input.Length);
        if (input.Length / 2 + 1 > limit) EnsureNodeCount(input.Span, limit, options.MaxDepth);
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
                    key.Offset = keyOffset;
                    key.Raw = input[keyOffset..pos];
                    if (entries.Count > 0)
                    {
                        var c = entries[^1].Key.Span.SequenceCompareTo(key.Span);
                        if (c == 0 && sorted) throw new BencodeException(BencodeError.DuplicateKey, keyOffset);
                        if (c > 0)
                        {
                            if (options.RequireSortedKeys) throw new BencodeException(BencodeError.UnsortedKeys, keyOffset);
                            // Duplicates are found after sorting: a scan per key would be quadratic in a hostile dictionary.
                            sorted = false;
                        }
                    }

                    var item = ReadValue(input, ref pos, depth + 1, options);
                    entries.Add(new(key, item));
                }

                pos++;
                if (!sorted)
                {
                    entries.Sort(static (a, b) => a.Key.Span.SequenceCompareTo(b.Key.Span));
                    for (var i = 1; i < entries.Count; i++)
                    {
                        if (entries[i - 1].Key.Span.SequenceEqual(entries[i].Key.Span))
                        {
                            throw new BencodeException(BencodeError.DuplicateKey, Math.Max(entries[i - 1].Key.Offset, entries[i].Key.Offset));
                        }
                    }
                }

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

    /// <summary>
    /// Counts the values of the first value in <paramref name="span"/> without allocating, and throws
    /// <see cref="BencodeError.TooManyNodes"/> past <paramref name="limit"/>. Malformed input ends the count early: the
    /// decoder then stops at the same place (or sooner) with the precise error, having built fewer values than counted.
    /// </summary>
    private static void EnsureNodeCount(ReadOnlySpan<byte> span, int limit, int maxDepth)
    {
        var pos = 0;
        var depth = 0;
        var count = 0;
        while (pos < span.Length)
        {
            var b = span[pos];
            if (b == (byte)'e')
            {
                if (depth == 0) return;
                pos++;
                if (--depth == 0) return;
                continue;
            }

            if (++count > limit) throw new BencodeException(BencodeError.TooManyNodes, pos);
            switch (b)
            {
                case (byte)'l' or (byte)'d':
                    if (depth >= maxDepth) return; // the decoder stops here: NestingTooDeep
                    depth++;
                    pos++;
                    continue;
                case (byte)'i':
                {
                    var end = span[pos..].IndexOf((byte)'e');
                    if (end < 0) return;
                    pos += end + 1;
                    break;
                }

                case >= (byte)'0' and <= (byte)'9':
                {
                    long length = 0;
                    while (pos < span.Length && span[pos] is >= (byte)'0' and <= (byte)'9' && length <= span.Length)
                    {
                        length = (length * 10) + (span[pos] - '0');
                        pos++;
                    }

                    if (pos >= span.Length || span[pos] != (byte)':' || length > span.Length - pos - 1) return;
                    pos += 1 + (int)length;
                    break;
                }

                default:
                    return;
            }

            if (depth == 0) return;
        }
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
