using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Connections;

/// <summary>Receives decoded messages from a <see cref="PeerWireReader"/>.</summary>
public interface IPeerMessageHandler
{
    /// <summary>
    /// Handles one message. Its payload points into the receive buffer and is valid only during this call:
    /// copy what must outlive it (e.g. write a block to a pooled buffer). Return false to stop reading.
    /// </summary>
    bool OnMessage(in PeerMessage message);
}

/// <summary>Why a read returned.</summary>
public enum PeerReadStatus
{
    /// <summary>At least one message was handed to the handler.</summary>
    MessagesRead,
    /// <summary>The peer closed the connection.</summary>
    Closed,
    /// <summary>The handler asked to stop.</summary>
    Stopped,
    /// <summary>The peer announced a message over the limits: drop it.</summary>
    TooLarge,
    /// <summary>The peer sent an impossible message: drop it.</summary>
    Malformed,
    /// <summary>The peer did not open with a BitTorrent handshake.</summary>
    InvalidHandshake,
}

/// <summary>Result of reading the handshake.</summary>
public readonly record struct HandshakeReadResult(PeerReadStatus Status, Handshake Handshake)
{
    public bool Succeeded => Status == PeerReadStatus.MessagesRead;
}

/// <summary>
/// Reads the peer wire from a connection through a <see cref="Pipe"/> (pooled segments, no copy between receive
/// and parse) and hands each message to a handler, without allocating per message. One reader at a time.
/// </summary>
public sealed class PeerWireReader : IAsyncDisposable
{
    /// <summary>Largest single receive: four loopback segments; larger saved nothing measurable.</summary>
    public const int MaximumReceiveSize = 256 * 1024;

    private readonly IPeerConnection _connection;
    private readonly Pipe _pipe;
    private readonly int _minimumReceiveSize;
    private int _receiveSize;
    private bool _completed;
    private bool _busy;
    private long _buffered;
    // Receive batching (ReceiveLowWater): the mark set on the connection, bytes of the current and the last window.
    private int _lowWater = 1;
    private int _lowWaterRetryIn;
    private long _windowStart;
    private long _windowBytes;
    private long _recentBytes;
    private long _receivedAtRelaxCheck;

    public PeerWireReader(IPeerConnection connection, FrameLimits limits, int minimumReceiveSize = 16 * 1024)
    {
        _connection = connection;
        Limits = limits;
        _minimumReceiveSize = minimumReceiveSize;
        _receiveSize = minimumReceiveSize;
        // No writer pause: this class is both writer and reader, and the limits already bound what is buffered.
        _pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, minimumSegmentSize: 32 * 1024, useSynchronizationContext: false));
    }

    /// <summary>The framing limits; tighten with <see cref="FrameLimits.ForPieceCount"/> once the piece count is known.</summary>
    public FrameLimits Limits { get; set; }

    public IPeerConnection Connection => _connection;

    /// <summary>Bytes received so far (for rate measurement).</summary>
    public long BytesReceived { get; private set; }

    /// <summary>
    /// Bytes the peer owes us (blocks requested and not arrived): set to batch receives while it streams blocks
    /// (<see cref="ReceiveLowWater"/>); null leaves every receive waking at the first data.
    /// </summary>
    public Func<long>? BytesOwed { get; set; }

    /// <summary>The clock of the 10 ms rate window behind receive batching (the engine's own, in the engine).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The receive low-water mark in force (1: none).</summary>
    public int LowWater => Volatile.Read(ref _lowWater);

    /// <summary>
    /// The watchdog of receive batching (any thread; the torrent's tick calls it): when nothing arrived since its last
    /// call while a batch was being waited for, the peer stopped short of it (it choked us, or dropped requests), so the
    /// mark goes back to 1 and the bytes already there are read (a waiting receive wakes at once).
    /// </summary>
    public void RelaxLowWater()
    {
        var received = BytesReceived;
        var idle = received == Interlocked.Exchange(ref _receivedAtRelaxCheck, received);
        if (idle && Volatile.Read(ref _lowWater) > 1 && _connection.TrySetReceiveLowWater(1)) Volatile.Write(ref _lowWater, 1);
    }

    /// <summary>Reads the 68-byte handshake; any bytes after it stay buffered for <see cref="ReadAsync"/>.</summary>
    public async ValueTask<HandshakeReadResult> ReadHandshakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_pipe.Reader.TryRead(out var result))
            {
                var buffer = result.Buffer;
                var status = Handshake.TryParse(buffer, out var handshake, out var consumed);
                switch (status)
                {
                    case HandshakeStatus.Complete:
                        _pipe.Reader.AdvanceTo(consumed);
                        return new(PeerReadStatus.MessagesRead, handshake);
                    case HandshakeStatus.Invalid:
                        _pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
                        return new(PeerReadStatus.InvalidHandshake, default);
                    default:
                        _pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
                        break;
                }
            }
            if (!await ReceiveAsync(cancellationToken).ConfigureAwait(false)) return new(PeerReadStatus.Closed, default);
        }
    }

    /// <summary>
    /// Waits for data, then hands every complete buffered message to <paramref name="handler"/> and returns
    /// (so the caller can flush replies or yield between batches).
    /// </summary>
    // Called per receive/send: pooled state machines keep the hot path free of allocations.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<PeerReadStatus> ReadAsync(IPeerMessageHandler handler, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (_pipe.Reader.TryRead(out var result))
            {
                var status = Dispatch(result.Buffer, handler);
                if (status.HasValue) return status.Value;
            }
            if (!await ReceiveAsync(cancellationToken).ConfigureAwait(false)) return PeerReadStatus.Closed;
        }
    }

    private PeerReadStatus? Dispatch(System.Buffers.ReadOnlySequence<byte> buffer, IPeerMessageHandler handler)
    {
        var limits = Limits;
        var handled = 0;
        var end = buffer.End;
        while (true)
        {
            var frame = PeerMessageReader.TryRead(buffer, limits, out var message, out var consumed);
            switch (frame)
            {
                case FrameStatus.Complete:
                    handled++;
                    var keepGoing = handler.OnMessage(message);
                    buffer = buffer.Slice(consumed);
                    if (!keepGoing)
                    {
                        _pipe.Reader.AdvanceTo(buffer.Start);
                        return PeerReadStatus.Stopped;
                    }
                    continue;
                case FrameStatus.Incomplete:
                    _pipe.Reader.AdvanceTo(buffer.Start, end);
                    _buffered = buffer.Length;
                    return handled > 0 ? PeerReadStatus.MessagesRead : null;
                case FrameStatus.TooLarge:
                    _pipe.Reader.AdvanceTo(buffer.Start, end);
                    return PeerReadStatus.TooLarge;
                default:
                    _pipe.Reader.AdvanceTo(buffer.Start, end);
                    return PeerReadStatus.Malformed;
            }
        }
    }

    // Called per receive/send: pooled state machines keep the hot path free of allocations.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ReceiveAsync(CancellationToken cancellationToken)
    {
        SetLowWater();
        if (!_busy)
        {
            // Wait for data with a zero-byte read before taking a buffer, so idle connections hold none
            // (1,000 connections held 32 KiB each). Skipped while the peer is sending blocks: then data is
            // almost always on its way and the extra wait costs a system call and a wake-up per receive.
            await _connection.ReceiveAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }
        var memory = _pipe.Writer.GetMemory(_receiveSize);
        var n = await _connection.ReceiveAsync(memory, cancellationToken).ConfigureAwait(false);
        CountRecent(n);
        _busy = n >= _minimumReceiveSize;
        // A peer that fills the buffer gets bigger receives (to MaximumReceiveSize): fewer system calls and
        // wake-ups per MiB at full speed; one that stops filling it goes back to the small size.
        _receiveSize = n == memory.Length ? Math.Min(_receiveSize * 2, MaximumReceiveSize)
            : n < _receiveSize / 4 ? _minimumReceiveSize : _receiveSize;
        if (n == 0) return false;
        _pipe.Writer.Advance(n);
        BytesReceived += n;
        await _pipe.Writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    // Before each receive: a batch while the peer streams blocks, any data otherwise. Not tied to the size of the last
    // receive: the socket engine first tries each receive at once, which returns whatever little is there.
    private void SetLowWater()
    {
        if (BytesOwed is not { } owed) return;
        var wanted = ReceiveLowWater.Choose(owed(), _buffered, _recentBytes);
        if (wanted == Volatile.Read(ref _lowWater)) return;
        if (wanted > 1 && _lowWaterRetryIn > 0)
        {
            _lowWaterRetryIn--;
            return;
        }
        if (_connection.TrySetReceiveLowWater(wanted)) Volatile.Write(ref _lowWater, wanted);
        // Refused (no such setting): asked again 64 receives later, not at every one.
        else if (wanted > 1) _lowWaterRetryIn = 64;
    }

    private void CountRecent(int n)
    {
        var now = Clock.GetTimestamp();
        var elapsed = Clock.GetElapsedTime(_windowStart, now);
        if (elapsed >= ReceiveLowWater.Window)
        {
            // A window that ran long (a slow peer) counts at its rate over 10 ms.
            _recentBytes = (long)(_windowBytes * (ReceiveLowWater.Window / elapsed));
            _windowBytes = 0;
            _windowStart = now;
        }
        _windowBytes += n;
    }

    /// <summary>Returns the buffers to the pool; does not dispose the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_completed) return;
        _completed = true;
        await _pipe.Writer.CompleteAsync().ConfigureAwait(false);
        await _pipe.Reader.CompleteAsync().ConfigureAwait(false);
    }
}
