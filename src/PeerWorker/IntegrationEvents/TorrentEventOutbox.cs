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
    // Batches handed to the producer before the oldest is acknowledged: the next batch goes out while the brokers
    // acknowledge the one before, instead of the drain idling for a round trip (and a journal delete) per batch.
    private const int BatchesInFlight = 3;

    private readonly TorrentSequences _sequences = sequences ?? new TorrentSequences(null);
    // What the drain publishes from: the journal's rows, kept in memory as written so the drain need not read them back
    // and parse them again (that cost about as much as writing them). The journal alone is read while it holds rows that
    // are not here: at start (events left by a stop or adopted), or once more than MemoryLimit waited (a long outage).
    private readonly Queue<JournalEntry> _memory = new();
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
            var bodies = new byte[events.Count][];
            for (var i = 0; i < numbered.Length; i++)
            {
                numbered[i] = events[i] with { Sequence = _sequences.Next(events[i].InfoHash) };
                // Serialized once: the journal stores these bytes and the drain publishes them.
                bodies[i] = IntegrationEventJson.SerializeToUtf8Bytes(numbered[i]);
            }
            if (journal is not null)
            {
                // One transaction: its positions are consecutive.
                _memoryPosition = journal.AppendRange(numbered, bodies) - numbered.Length;
                if (!_journalOnly && _memory.Count + numbered.Length > MemoryLimit)
                {
                    _journalOnly = true;
                    _memory.Clear();
                }
            }
            if (!_journalOnly)
            {
                for (var i = 0; i < numbered.Length; i++)
                {
                    _memory.Enqueue(new JournalEntry(++_memoryPosition, numbered[i], bodies[i]));
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
        var inFlight = new Queue<(IReadOnlyList<JournalEntry> Batch, Task[] Sends)>();
        long sentThrough = 0; // the position of the newest event handed to the producer
        while (!_stopped)
        {
            if (inFlight.Count < BatchesInFlight)
            {
                var batch = ReadBatch(sentThrough, inFlight.Count == 0);
                if (batch.Count > 0)
                {
                    inFlight.Enqueue((batch, Send(batch)));
                    sentThrough = batch[^1].Position;
                    continue;
                }
            }
            if (inFlight.Count == 0)
            {
                await _signal.WaitAsync(TimeSpan.FromSeconds(1), CancellationToken.None).ConfigureAwait(false);
                continue;
            }
            var (oldest, sends) = inFlight.Dequeue();
            var (acknowledged, complete) = await AcknowledgedAsync(oldest, sends).ConfigureAwait(false);
            if (acknowledged > 0)
            {
                Remove(oldest[acknowledged - 1].Position, acknowledged);
            }
            if (complete)
            {
                _backoff = InitialBackoff;
                continue;
            }
            // Let every later publish finish before reading again from the first unacknowledged event, so that none is
            // still in the producer when it goes out again.
            while (inFlight.TryDequeue(out var later))
            {
                await Task.WhenAll(later.Sends.Select(t => t.ContinueWith(static _ => { }, TaskScheduler.Default))).ConfigureAwait(false);
            }
            sentThrough = acknowledged > 0 ? oldest[acknowledged - 1].Position : oldest[0].Position - 1;
            if (!await BackOffAsync().ConfigureAwait(false))
            {
                return;
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

    /// <summary>The oldest events after <paramref name="sentThrough"/>, at most <see cref="BatchSize"/>.</summary>
    private IReadOnlyList<JournalEntry> ReadBatch(long sentThrough, bool nothingInFlight)
    {
        lock (_gate)
        {
            if (_journalOnly)
            {
                var rows = journal!.ReadAfter(sentThrough, BatchSize);
                if (rows.Count > 0 || !nothingInFlight)
                {
                    // While some are in flight they may fail and have to be read from the journal again.
                    return rows;
                }
                // Nothing in flight and nothing after it: every row read was acknowledged and removed, so the journal is
                // empty. Under the gate, so no event is written between: from now on the memory (empty since the
                // journal took over) holds exactly the journal's rows.
                _journalOnly = false;
            }
            // What is in flight sits at the head of the memory, BatchesInFlight batches at most.
            return [.. _memory.SkipWhile(e => e.Position <= sentThrough).Take(BatchSize)];
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
    /// Hands the whole batch to the producer at once, in the journal's order: the producer batches them (linger) and keeps
    /// several requests in flight, and because it is idempotent (at most 5 in flight per broker) each partition, so each
    /// torrent, still gets them in the order produced, also across its own retries.
    /// </summary>
    private Task[] Send(IReadOnlyList<JournalEntry> batch)
    {
        var sends = new Task[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var (_, e, body) = batch[i];
            try
            {
                // No cancellation: a produce abandoned by its caller would still be in the producer's queue, and be
                // sent after the retry of an event behind it. The producer's message.timeout.ms ends a failed attempt.
                // The journal's bytes go out as they are: serialized once.
                sends[i] = publisher.PublishSerializedAsync(Topics.TorrentEvents, e.InfoHash, e, body, CancellationToken.None);
            }
            catch (Exception ex)
            {
                sends[i] = Task.FromException(ex);
            }
        }
        return sends;
    }

    /// <summary>
    /// Waits for a batch's acknowledgements. Returns how many of the oldest were acknowledged in a row, and whether that
    /// was all of them. Events after a failed one may have gone out too; they are sent again with it (consumers skip
    /// sequences they have seen).
    /// </summary>
    private async Task<(int Acknowledged, bool Complete)> AcknowledgedAsync(IReadOnlyList<JournalEntry> batch, Task[] sends)
    {
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
