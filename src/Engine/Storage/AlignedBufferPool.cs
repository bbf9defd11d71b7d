namespace TorrentEdge.Engine.Storage;

/// <summary>
/// A pooled buffer whose memory starts on a <see cref="DirectIo.Alignment"/> boundary and never moves (a
/// pinned array), so a piece can be written with direct I/O straight from where its blocks were received.
/// </summary>
public sealed class AlignedBuffer
{
    private readonly byte[] _array;
    private readonly int _offset;

    internal unsafe AlignedBuffer(int capacity)
    {
        // Pinned arrays live on the pinned object heap: the address tested here stays valid. One page more than
        // alignment needs, so the buffer can also be used from any offset within its first page (Shifted).
        _array = GC.AllocateUninitializedArray<byte>(capacity + 2 * DirectIo.Alignment - 1, pinned: true);
        fixed (byte* p = _array)
            _offset = (int)((DirectIo.Alignment - ((nint)p & (DirectIo.Alignment - 1))) & (DirectIo.Alignment - 1));
        Capacity = capacity;
    }

    public int Capacity { get; }

    public Memory<byte> Memory => _array.AsMemory(_offset, Capacity);

    public Span<byte> Span => _array.AsSpan(_offset, Capacity);

    /// <summary>
    /// <paramref name="length"/> bytes (at most <see cref="Capacity"/>) starting <paramref name="shift"/> bytes
    /// (0 to <see cref="DirectIo.Alignment"/> - 1) past the aligned start: memory at the same offset within a page as
    /// the file offset it will be written to (see <see cref="StorageLayout.GetDirectShift"/>).
    /// </summary>
    public Span<byte> Shifted(int shift, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(shift);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(shift, DirectIo.Alignment);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Capacity);
        return _array.AsSpan(_offset + shift, length);
    }
}

/// <summary>
/// Pool of <see cref="AlignedBuffer"/>s in power-of-two sizes from 4 KiB, each size keeping at most
/// <see cref="RetainedBytesPerSize"/> of idle buffers (at least two) and all sizes together at most
/// <see cref="MaxRetainedBytes"/>, so a burst, or torrents of many piece sizes, do not stay resident.
/// </summary>
public sealed class AlignedBufferPool
{
    public const int RetainedBytesPerSize = 16 * 1024 * 1024;
    public const long MaxRetainedBytes = 48L * 1024 * 1024;
    private const int MinShift = 12;
    private const int MaxShift = 26; // 64 MiB; larger requests are allocated and dropped, never pooled

    private readonly Stack<AlignedBuffer>[] _idle = new Stack<AlignedBuffer>[MaxShift - MinShift + 1];
    private readonly Lock _gate = new();
    private long _retainedBytes;

    public AlignedBufferPool()
    {
        for (var i = 0; i < _idle.Length; i++) _idle[i] = new Stack<AlignedBuffer>();
    }

    public static AlignedBufferPool Shared { get; } = new();

    /// <summary>Bytes held by idle buffers.</summary>
    public long RetainedBytes
    {
        get
        {
            lock (_gate) return _retainedBytes;
        }
    }

    /// <summary>A buffer of at least <paramref name="minimumLength"/> bytes; its contents are undefined.</summary>
    public AlignedBuffer Rent(int minimumLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minimumLength);
        var bucket = BucketOf(minimumLength);
        if (bucket < 0) return new AlignedBuffer(minimumLength);
        lock (_gate)
        {
            if (_idle[bucket].TryPop(out var buffer))
            {
                _retainedBytes -= buffer.Capacity;
                return buffer;
            }
        }
        return new AlignedBuffer(1 << (bucket + MinShift));
    }

    public void Return(AlignedBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        var bucket = BucketOf(buffer.Capacity);
        if (bucket < 0 || 1 << (bucket + MinShift) != buffer.Capacity) return; // not one of ours: let the GC have it
        var keep = Math.Max(2, RetainedBytesPerSize / buffer.Capacity);
        lock (_gate)
        {
            if (_idle[bucket].Count >= keep || _retainedBytes + buffer.Capacity > MaxRetainedBytes) return;
            _idle[bucket].Push(buffer);
            _retainedBytes += buffer.Capacity;
        }
    }

    private static int BucketOf(int length)
    {
        var shift = Math.Max(MinShift, length <= 1 ? 0 : 32 - int.LeadingZeroCount(length - 1));
        return shift > MaxShift ? -1 : shift - MinShift;
    }
}
