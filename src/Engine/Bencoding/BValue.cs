using System.Collections;
using System.Text;

namespace TorrentEdge.Engine.Bencoding;

/// <summary>A decoded or constructed bencoded value (BEP 3): integer, byte string, list or dictionary.</summary>
public abstract class BValue : IEquatable<BValue>
{
    private protected BValue()
    {
    }

    /// <summary>
    /// The exact bytes this value was decoded from (empty for constructed values). The info-hash of a
    /// torrent is computed over this range of the info dictionary, never over a re-encoding.
    /// </summary>
    public ReadOnlyMemory<byte> Raw { get; internal set; }

    /// <summary>Byte offset of <see cref="Raw"/> in the decoded input (-1 for constructed values).</summary>
    public int Offset { get; internal set; } = -1;

    public abstract bool Equals(BValue? other);

    public override bool Equals(object? obj) => obj is BValue v && Equals(v);

    public abstract override int GetHashCode();

    /// <summary>Canonical encoding of this value.</summary>
    public byte[] Encode() => BencodeWriter.Encode(this);
}

/// <summary>A bencoded integer.</summary>
public sealed class BInteger : BValue
{
    public BInteger(long value) => Value = value;

    public long Value { get; }

    public override bool Equals(BValue? other) => other is BInteger i && i.Value == Value;

    public override int GetHashCode() => Value.GetHashCode();

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static implicit operator BInteger(long value) => new(value);
}

/// <summary>A bencoded byte string; bytes are not necessarily UTF-8.</summary>
public sealed class BString : BValue, IComparable<BString>
{
    public BString(ReadOnlyMemory<byte> bytes) => Bytes = bytes;

    public BString(string text) => Bytes = Encoding.UTF8.GetBytes(text);

    public ReadOnlyMemory<byte> Bytes { get; }

    public ReadOnlySpan<byte> Span => Bytes.Span;

    public int Length => Bytes.Length;

    /// <summary>The bytes decoded as UTF-8 (invalid sequences become U+FFFD).</summary>
    public string Text => Encoding.UTF8.GetString(Bytes.Span);

    /// <summary>True when the bytes are well-formed UTF-8.</summary>
    public bool IsValidUtf8 => System.Text.Unicode.Utf8.IsValid(Bytes.Span);

    public override bool Equals(BValue? other) => other is BString s && s.Span.SequenceEqual(Span);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.AddBytes(Span);
        return h.ToHashCode();
    }

    public int CompareTo(BString? other) => other is null ? 1 : Span.SequenceCompareTo(other.Span);

    public override string ToString() => Text;

    public static implicit operator BString(string text) => new(text);
}

/// <summary>A bencoded list.</summary>
public sealed class BList : BValue, IReadOnlyList<BValue>
{
    private readonly List<BValue> _items;

    public BList() => _items = [];

    public BList(IEnumerable<BValue> items) => _items = [.. items];

    internal BList(List<BValue> items, bool _) => _items = items;

    public int Count => _items.Count;

    public BValue this[int index] => _items[index];

    public void Add(BValue item) => _items.Add(item ?? throw new ArgumentNullException(nameof(item)));

    public IEnumerator<BValue> GetEnumerator() => _items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override bool Equals(BValue? other)
    {
        if (other is not BList l || l.Count != Count) return false;
        for (var i = 0; i < Count; i++)
        {
            if (!_items[i].Equals(l._items[i])) return false;
        }

        return true;
    }

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Count);
        foreach (var item in _items) h.Add(item.GetHashCode());
        return h.ToHashCode();
    }
}

/// <summary>
/// A bencoded dictionary. Keys are raw byte strings kept in their order; decoded dictionaries are
/// sorted (the reader enforces it), and the writer sorts constructed ones.
/// </summary>
public sealed class BDictionary : BValue, IReadOnlyList<KeyValuePair<BString, BValue>>
{
    private readonly List<KeyValuePair<BString, BValue>> _entries;
    private bool _sorted;

    public BDictionary()
    {
        _entries = [];
        _sorted = true;
    }

    internal BDictionary(List<KeyValuePair<BString, BValue>> sortedEntries)
    {
        _entries = sortedEntries;
        _sorted = true;
    }

    public int Count => _entries.Count;

    public KeyValuePair<BString, BValue> this[int index] => _entries[index];

    /// <summary>Keys in stored order.</summary>
    public IEnumerable<BString> Keys => _entries.Select(e => e.Key);

    /// <summary>
    /// False when this dictionary was decoded from input whose keys were out of order (only possible
    /// with <see cref="BencodeReaderOptions.RequireSortedKeys"/> off); such bytes are not canonical.
    /// </summary>
    public bool WasCanonicalInInput { get; internal set; } = true;

    public BValue this[string key]
    {
        get => TryGetValue(key, out var v) ? v : throw new KeyNotFoundException(key);
        set => Set(new BString(key), value);
    }

    /// <summary>Adds or replaces the value under <paramref name="key"/>.</summary>
    public void Set(BString key, BValue value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        var i = IndexOf(key.Span);
        if (i >= 0)
        {
            _entries[i] = new(key, value);
            return;
        }

        if (_sorted && _entries.Count > 0 && _entries[^1].Key.Span.SequenceCompareTo(key.Span) >= 0) _sorted = false;
        _entries.Add(new(key, value));
    }

    public void Add(string key, BValue value) => Set(new BString(key), value);

    public bool ContainsKey(string key) => TryGetValue(key, out _);

    public bool TryGetValue(string key, out BValue value)
    {
        Span<byte> buffer = stackalloc byte[256];
        var max = Encoding.UTF8.GetMaxByteCount(key.Length);
        var bytes = max <= buffer.Length ? buffer : new byte[max];
        var n = Encoding.UTF8.GetBytes(key, bytes);
        return TryGetValue(bytes[..n], out value);
    }

    public bool TryGetValue(ReadOnlySpan<byte> key, out BValue value)
    {
        var i = IndexOf(key);
        value = i >= 0 ? _entries[i].Value : null!;
        return i >= 0;
    }

    /// <summary>The value under <paramref name="key"/> if it exists and has type <typeparamref name="T"/>.</summary>
    public T? Get<T>(string key) where T : BValue => TryGetValue(key, out var v) ? v as T : null;

    private int IndexOf(ReadOnlySpan<byte> key)
    {
        if (_sorted)
        {
            int lo = 0, hi = _entries.Count - 1;
            while (lo <= hi)
            {
                var mid = lo + ((hi - lo) >> 1);
                var c = _entries[mid].Key.Span.SequenceCompareTo(key);
                if (c == 0) return mid;
                if (c < 0) lo = mid + 1;
                else hi = mid - 1;
            }

            return -1;
        }

        for (var i = 0; i < _entries.Count; i++)
        {
            if (_entries[i].Key.Span.SequenceEqual(key)) return i;
        }

        return -1;
    }

    public IEnumerator<KeyValuePair<BString, BValue>> GetEnumerator() => _entries.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Entries sorted by raw key bytes, as the canonical encoding requires.</summary>
    internal IReadOnlyList<KeyValuePair<BString, BValue>> SortedEntries()
    {
        if (_sorted) return _entries;
        var copy = new List<KeyValuePair<BString, BValue>>(_entries);
        copy.Sort(static (a, b) => a.Key.Span.SequenceCompareTo(b.Key.Span));
        return copy;
    }

    public override bool Equals(BValue? other)
    {
        if (other is not BDictionary d || d.Count != Count) return false;
        foreach (var (k, v) in _entries)
        {
            if (!d.TryGetValue(k.Span, out var ov) || !v.Equals(ov)) return false;
        }

        return true;
    }

    public override int GetHashCode()
    {
        // Order-independent so that equal dictionaries in different orders hash alike.
        var sum = Count;
        foreach (var (k, v) in _entries) sum += HashCode.Combine(k.GetHashCode(), v.GetHashCode());
        return sum;
    }
}
