using System.Threading.Channels;

namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// The torrent loop's queue, bounded by backpressure: peer sessions stop reading their sockets while it holds
/// <see cref="Capacity"/> items or more (TCP then slows the peers), and read on once the loop has drained it below.
/// Each session posts the message it is decoding before it stops, so the queue never holds more than
/// <see cref="Capacity"/> plus one item per connection plus the loop's own messages (timer, commands, results of its
/// own background work), each of which is bounded elsewhere. Those are never refused: losing a "peer closed" or a
/// hash verdict would leave the torrent's state wrong.
/// </summary>
internal sealed class LoopQueue
{
    private readonly Channel<LoopItem> _channel = Channel.CreateUnbounded<LoopItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Lock _gate = new();
    private TaskCompletionSource? _room;
    private int _count;
    private int _highWater;

    public LoopQueue(int capacity) => Capacity = Math.Max(1, capacity);

    public int Capacity { get; }

    /// <summary>Items waiting now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>The most items ever waiting at once.</summary>
    public int HighWater => Volatile.Read(ref _highWater);

    /// <summary>Whether a session should stop reading after the message it just posted.</summary>
    public bool IsFull => Volatile.Read(ref _count) >= Capacity;

    /// <summary>Adds an item (any thread); false only once the queue is completed.</summary>
    public bool Post(in LoopItem item)
    {
        var n = Interlocked.Increment(ref _count);
        if (!_channel.Writer.TryWrite(item))
        {
            Interlocked.Decrement(ref _count);
            return false;
        }
        // A racy maximum is fine for a statistic; the loop of compare-exchange runs only when it grows.
        int seen;
        while (n > (seen = Volatile.Read(ref _highWater)) && Interlocked.CompareExchange(ref _highWater, n, seen) != seen)
        {
        }
        return true;
    }

    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) => _channel.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>The next item (the loop only).</summary>
    public bool TryRead(out LoopItem item)
    {
        if (!_channel.Reader.TryRead(out item)) return false;
        Interlocked.Decrement(ref _count);
        return true;
    }

    /// <summary>Completes when the queue has room (at once when it has); sessions await it before reading on.</summary>
    public Task WaitForRoomAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (Volatile.Read(ref _count) < Capacity) return Task.CompletedTask;
            _room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _room.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>After a batch (the loop): wakes the sessions waiting for room, if there is room now.</summary>
    public void SignalRoom()
    {
        TaskCompletionSource? room;
        lock (_gate)
        {
            if (_room is null || Volatile.Read(ref _count) >= Capacity) return;
            room = _room;
            _room = null;
        }
        room.TrySetResult();
    }

    /// <summary>No more items; waiting sessions are released (they end with the torrent anyway).</summary>
    public void Complete()
    {
        _channel.Writer.TryComplete();
        TaskCompletionSource? room;
        lock (_gate)
        {
            room = _room;
            _room = null;
        }
        room?.TrySetResult();
    }
}
