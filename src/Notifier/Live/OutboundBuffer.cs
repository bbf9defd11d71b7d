namespace TorrentEdge.Notifier.Live;

/// <summary>
/// A connection's bounded queue of events, drained by the one task that writes to that connection. A progress event
/// (<see cref="LiveMessage.Coalesces"/>) replaces the same torrent's progress still waiting, so a lagging client gets the
/// newest figures instead of a backlog, and pieces merge into one event (<see cref="LiveMessage.Coalesce"/>); anything else that finds the buffer full means the client cannot keep up, and
/// <see cref="TryEnqueue"/> says so (the caller closes the connection: the client reconnects and starts from the present).
/// Producers never wait: one stalled client costs the others nothing.
/// </summary>
public sealed class OutboundBuffer(int capacity)
{
    private readonly Queue<Slot> _queue = new();
    private readonly Dictionary<(string InfoHash, string Name), Slot> _waiting = [];
    private readonly SemaphoreSlim _signal = new(0, 1);
    private long _coalesced;

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    /// <summary>Events waiting beyond which the client counts as lagging (pieces start to merge).</summary>
    public int LagThreshold => Math.Max(1, Capacity / 16);

    public int Count
    {
        get
        {
            lock (_queue)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Events replaced by newer ones of the same torrent before they were sent.</summary>
    public long Coalesced => Interlocked.Read(ref _coalesced);

    /// <summary>False when the buffer is full and the event could not be coalesced.</summary>
    public bool TryEnqueue(LiveMessage message)
    {
        lock (_queue)
        {
            // Progress is always replaced (only the newest figures matter); pieces merge only once the client lags,
            // so a client that keeps up gets one event per piece even from a burst.
            if (message.Coalesces && _waiting.TryGetValue((message.InfoHash, message.Name), out var slot)
                && (message.Name != Contracts.Live.LiveEventNames.Piece || _queue.Count >= LagThreshold))
            {
                slot.Message = LiveMessage.Coalesce(slot.Message, message);
                _coalesced++;
                return true;
            }
            if (_queue.Count >= Capacity)
            {
                return false;
            }
            var added = new Slot(message);
            _queue.Enqueue(added);
            if (message.Coalesces)
            {
                _waiting[(message.InfoHash, message.Name)] = added;
            }
        }
        Signal();
        return true;
    }

    /// <summary>Takes up to <paramref name="max"/> events without waiting; empty when there are none.</summary>
    public int Drain(List<LiveMessage> into, int max)
    {
        var taken = 0;
        lock (_queue)
        {
            while (taken < max && _queue.TryDequeue(out var slot))
            {
                if (slot.Message.Coalesces)
                {
                    _waiting.Remove((slot.Message.InfoHash, slot.Message.Name));
                }
                into.Add(slot.Message);
                taken++;
            }
        }
        return taken;
    }

    /// <summary>Completes when something was enqueued since the last wait (or the token is cancelled).</summary>
    public Task WaitAsync(CancellationToken cancellationToken) => _signal.WaitAsync(cancellationToken);

    /// <summary>Wakes the writer (also used for a connection's own packets, e.g. acknowledgements).</summary>
    public void Signal()
    {
        // A count of at most one: many enqueues before the writer wakes are one wake-up.
        try
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
        catch (SemaphoreFullException)
        {
        }
    }

    private sealed class Slot(LiveMessage message)
    {
        public LiveMessage Message { get; set; } = message;
    }
}
