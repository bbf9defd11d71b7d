using System.Buffers;
using System.Runtime.CompilerServices;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Connections;

/// <summary>
/// Batches outgoing messages into one pooled buffer and sends them with one call per flush, so a burst of
/// requests or haves costs one send. One writer at a time; do not write while a flush is in progress.
/// </summary>
public sealed class PeerWireWriter : IBufferWriter<byte>, IDisposable
{
    private readonly IPeerConnection _connection;
    private byte[] _buffer;
    private int _written;

    public PeerWireWriter(IPeerConnection connection, int initialCapacity = 4096)
    {
        _connection = connection;
        _buffer = ArrayPool<byte>.Shared.Rent(initialCapacity);
    }

    /// <summary>Bytes written and not yet flushed.</summary>
    public int BufferedBytes => _written;

    /// <summary>Bytes sent so far (for rate measurement).</summary>
    public long BytesSent { get; private set; }

    public void Write(in PeerMessage message) => message.WriteTo(this);

    public void Write(in Handshake handshake) => handshake.WriteTo(this);

    /// <summary>Sends everything buffered.</summary>
    // Called per receive/send: pooled state machines keep the hot path free of allocations.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        if (_written == 0) return;
        var count = _written;
        await _connection.SendAsync(_buffer.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
        _written = 0;
        BytesSent += count;
    }

    public void Advance(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (_written + count > _buffer.Length) throw new InvalidOperationException("Advanced past the buffer.");
        _written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_written);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_written);
    }

    private void Ensure(int sizeHint)
    {
        var needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _written >= needed) return;
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, _written + needed));
        _buffer.AsSpan(0, _written).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = bigger;
    }

    public void Dispose()
    {
        var buffer = Interlocked.Exchange(ref _buffer, []);
        if (buffer.Length > 0) ArrayPool<byte>.Shared.Return(buffer);
        _written = 0;
    }
}
