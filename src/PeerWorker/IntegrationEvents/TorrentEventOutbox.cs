using Confluent.Kafka;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.PeerWorker.IntegrationEvents;

/// <summary>
/// Torrent events on their way to torrent-events. <see cref="Enqueue"/> gives each event its torrent's next sequence
/// number and writes it to the <see cref="EventJournal"/> before returning, so the reconciler and the translator never
/// wait for the broker and a crash loses nothing; one drain publishes in order and removes each event only after the
/// brokers acknowledged it, retrying without limit (back-off up to <see cref="MaxBackoff"/>) while they are away.
/// Without a journal (unit tests) the queue is in memory.
/// </summary>
public sealed partial class TorrentEventOutbox(
    IIntegrationEventPublisher publisher,
    TimeProvider time,
    ILogger<TorrentEventOutbox> logger,
    EventJournal? journal = null,
    TorrentSequences? sequences = null) : BackgroundService
{
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    // Up to this many publishes in flight at once: enough to fill the producer's batches (linger) on every partition.
    private const int BatchSize = 2_000;

    private readonly TorrentSequences _sequences = sequences ?? new TorrentSequences(null);
    // What the drain publishes from: the journal's rows, kept in memory as written so the drain need not read them back
    // and parse them again (that cost about as much as writing them). The journal alone is read while it holds rows that
    // are not here: at start (events left by a stop or adopted), or once more than MemoryLimit waited (a long outage).
    private readonly Queue<(long Position, TorrentEvent Event)> _memory = new();
    private const int MemoryLimit = 100_000;
    private bool _journalOnly = journal is not null && journal.Count > 0;
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly Lock _gate = new();
    private long _memoryPosition;
    private TaskCompletionSource _idle = NewIdle(completed: journal is null || journal.Count == 0);
    private long _pending = journal?.Count ?? 0;

    /// <summary>Events written and not yet acknowledged by the brokers.</summary>
    public long Pending => Interlocked.Read(ref _pending);

    public void Enqueue(TorrentEvent @event)
    {
        ArgumentNullException.ThrowIfNull(@event);
        EnqueueRange([@event]);
    }

    /// <summary>
    /// Enqueues several events with one journal write: each write waits for the disk (fsync, several milliseconds here),
    /// so a caller with many events at hand should hand them over together. Durable when this returns, like
    /// <see cref="Enqueue"/>.
    /// </summary>
    public void EnqueueRange(IReadOnlyList<TorrentEvent> events)
    {
        ArgumentNullException.ThrowIfNull(events);
        if (events.Count == 0)
        {
            return;
        }
        lock (_gate)
        {
            // Under the lock: a torrent's sequence numbers and its journal positions grow together.
            var numbered = new TorrentEvent[events.Count];
            for (var i = 0; i < numbered.Length; i++)
            {
                numbered[i] = events[i] with { Sequence = _sequences.Next(events[i].InfoHash) };
            }
            if (journal is not null)
            {
                // One transaction: its positions are consecutive.
                _memoryPosition = journal.AppendRange(numbered) - numbered.Length;
                if (!_journalOnly && _memory.Count + numbered.Length > MemoryLimit)
                {
                    _journalOnly = true;
                    _memory.Clear();
                }
            }
            if (!_journalOnly)
            {
                foreach (var e in numbered)
                {
                    _memory.Enqueue((++_memoryPosition, e));
                }
            }
            if (Interlocked.Add(ref _pending, numbered.Length) == numbered.Length && _idle.Task.IsCompleted)
            {
                _idle = NewIdle(completed: false);
            }
        }
        Wake();
    }

    /// <summary>Forgets a torrent's reserved sequence numbers (it moved to another replica).</summary>
    public void Released(string infoHash) => _sequences.Release(infoHash);

    /// <summary>Completes when everything enqueued so far was acknowledged, or when <paramref name="timeout"/> passes.</summary>
    public async Task FlushAsync(TimeSpan timeout)
    {
        Task idle;
        lock (_gate)
        {
            idle = _idle.Task;
        }
        try
        {
            await idle.WaitAsync(timeout, time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            LogFlushTimedOut(logger, Pending);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (journal is { Adopted: > 0 })
        {
            LogAdopted(logger, journal.Adopted);
        }
        // Not stoppingToken: the drain goes on while the host stops, so final status still goes out; StopAsync bounds
        // it, and whatever is left stays in the journal for the next start (or for the replica that adopts it).
        while (!_stopped)
        {
            var batch = ReadBatch();
            if (batch.Count == 0)
            {
                await _signal.WaitAsync(TimeSpan.FromSeconds(1), CancellationToken.None).ConfigureAwait(false);
                continue;
            }
            var (acknowledged, complete) = await PublishBatchAsync(batch).ConfigureAwait(false);
            if (acknowledged > 0)
            {
                Remove(batch[acknowledged - 1].Position, acknowledged);
            }
            if (!complete && !await BackOffAsync().ConfigureAwait(false))
            {
                return;
            }
            if (complete)
            {
                _backoff = InitialBackoff;
            }
        }
    }

    private volatile bool _stopped;

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await FlushAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _stopped = true;
        Wake();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
        _signal.Dispose();
        base.Dispose();
    }

    private IReadOnlyList<(long Position, TorrentEvent Event)> ReadBatch()
    {
        lock (_gate)
        {
            if (_journalOnly)
            {
                var rows = journal!.ReadOldest(BatchSize);
                if (rows.Count > 0)
                {
                    return rows;
                }
                // Under the gate, so no event is written between: from now on the memory holds exactly the journal's rows.
                _journalOnly = false;
            }
            return [.. _memory.Take(BatchSize)];
        }
    }

    /// <summary>Removes the oldest <paramref name="count"/> events, the newest of them at <paramref name="lastPosition"/>: one write for the lot.</summary>
    private void Remove(long lastPosition, int count)
    {
        journal?.RemoveThrough(lastPosition);
        lock (_gate)
        {
            while (_memory.TryPeek(out var oldest) && oldest.Position <= lastPosition)
            {
                _memory.Dequeue();
            }
            if (Interlocked.Add(ref _pending, -count) == 0)
            {
                _idle.TrySetResult();
            }
        }
    }

    /// <summary>
    /// Hands the whole batch to the producer at once, in the journal's order, then waits for the acknowledgements: the
    /// producer batches them (linger) and keeps several requests in flight, and because it is idempotent (at most 5 in
    /// flight per broker) each partition, so each torrent, still gets them in the order produced, also across its own
    /// retries. Returns how many of the oldest were acknowledged in a row, and whether that was all of them. Events
    /// after a failed one may have gone out too; they are sent again with it (consumers skip sequences they have seen).
    /// </summary>
    private async Task<(int Acknowledged, bool Complete)> PublishBatchAsync(IReadOnlyList<(long Position, TorrentEvent Event)> batch)
    {
        var sends = new Task[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var e = batch[i].Event;
            try
            {
                // No cancellation: a produce abandoned by its caller would still be in the producer's queue, and be
                // sent after the retry of an event behind it. The producer's message.timeout.ms ends a failed attempt.
                sends[i] = publisher.PublishAsync(Topics.TorrentEvents, e.InfoHash, e, CancellationToken.None);
            }
            catch (Exception ex)
            {
                sends[i] = Task.FromException(ex);
            }
        }
        var acknowledged = 0;
        for (var i = 0; i < sends.Length; i++)
        {
            try
            {
                await sends[i].ConfigureAwait(false);
            }
            catch (KafkaException ex) when (ex.Error.Code == ErrorCode.MsgSizeTooLarge)
            {
                // No retry can ever deliver it; keeping it would hold back every later event.
                LogTooLarge(logger, ex, batch[i].Event.GetType().Name, batch[i].Event.InfoHash);
            }
            catch (Exception ex)
            {
                LogRetrying(logger, ex, batch[i].Event.GetType().Name, batch[i].Event.InfoHash, ++_attempt, _backoff.TotalSeconds);
                // Wait for the rest so that none is still in the producer when the batch is read again.
                await Task.WhenAll(sends.Skip(i + 1).Select(t => t.ContinueWith(static _ => { }, TaskScheduler.Default))).ConfigureAwait(false);
                return (acknowledged, false);
            }
            acknowledged = i + 1;
        }
        _attempt = 0;
        return (acknowledged, true);
    }

    private static readonly TimeSpan InitialBackoff = TimeSpan.FromMilliseconds(200);
    private TimeSpan _backoff = InitialBackoff;
    private int _attempt;

    /// <summary>False when the service stopped while waiting; the events stay in the journal.</summary>
    private async Task<bool> BackOffAsync()
    {
        if (_stopped)
        {
            return false;
        }
        await Task.Delay(_backoff, time).ConfigureAwait(false);
        _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, MaxBackoff.Ticks));
        return !_stopped;
    }

    private void Wake()
    {
        try
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
        catch (Exception e) when (e is SemaphoreFullException or ObjectDisposedException)
        {
        }
    }

    private static TaskCompletionSource NewIdle(bool completed)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            tcs.SetResult();
        }
        return tcs;
    }

    [LoggerMessage(LogLevel.Warning, "Publishing {EventType} of {InfoHash} failed (attempt {Attempt}); again in {DelaySeconds} s, it stays in the outbox until then")]
    private static partial void LogRetrying(ILogger logger, Exception exception, string eventType, string infoHash, int attempt, double delaySeconds);

    [LoggerMessage(LogLevel.Error, "{EventType} of {InfoHash} is larger than the brokers accept; it is dropped")]
    private static partial void LogTooLarge(ILogger logger, Exception exception, string eventType, string infoHash);

    [LoggerMessage(LogLevel.Information, "Took over {Count} unsent torrent events from the outbox of a replica that is gone")]
    private static partial void LogAdopted(ILogger logger, int count);

    [LoggerMessage(LogLevel.Warning, "{Count} torrent events were still unpublished when the flush timed out; they stay in the outbox")]
    private static partial void LogFlushTimedOut(ILogger logger, long count);
}
