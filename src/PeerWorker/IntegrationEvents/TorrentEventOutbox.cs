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
    private const int BatchSize = 100;

    private readonly TorrentSequences _sequences = sequences ?? new TorrentSequences(null);
    private readonly Queue<(long Position, TorrentEvent Event)> _memory = new();
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
        lock (_gate)
        {
            // Under the lock: a torrent's sequence numbers and its journal positions grow together.
            var numbered = @event with { Sequence = _sequences.Next(@event.InfoHash) };
            if (journal is not null)
            {
                journal.Append(numbered);
            }
            else
            {
                _memory.Enqueue((++_memoryPosition, numbered));
            }
            if (Interlocked.Increment(ref _pending) == 1 && _idle.Task.IsCompleted)
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
            foreach (var (position, e) in batch)
            {
                if (!await PublishUntilAcknowledgedAsync(e).ConfigureAwait(false))
                {
                    return;
                }
                Remove(position);
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
        if (journal is not null)
        {
            return journal.ReadOldest(BatchSize);
        }
        lock (_gate)
        {
            return [.. _memory.Take(BatchSize)];
        }
    }

    private void Remove(long position)
    {
        if (journal is not null)
        {
            journal.Remove(position);
        }
        else
        {
            lock (_gate)
            {
                _memory.Dequeue();
            }
        }
        lock (_gate)
        {
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                _idle.TrySetResult();
            }
        }
    }

    /// <summary>False only when the service stopped before the brokers took the event.</summary>
    private async Task<bool> PublishUntilAcknowledgedAsync(TorrentEvent @event)
    {
        var backoff = TimeSpan.FromMilliseconds(200);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30), time);
                await publisher.PublishAsync(Topics.TorrentEvents, @event.InfoHash, @event, timeout.Token).ConfigureAwait(false);
                return true;
            }
            catch (KafkaException ex) when (ex.Error.Code == ErrorCode.MsgSizeTooLarge)
            {
                // No retry can ever deliver it; keeping it would hold back every later event.
                LogTooLarge(logger, ex, @event.GetType().Name, @event.InfoHash);
                return true;
            }
            catch (Exception ex)
            {
                if (_stopped)
                {
                    return false;
                }
                LogRetrying(logger, ex, @event.GetType().Name, @event.InfoHash, attempt, backoff.TotalSeconds);
                await Task.Delay(backoff, time).ConfigureAwait(false);
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
            }
        }
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
