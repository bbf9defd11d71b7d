using System.Threading.Channels;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.PeerWorker.IntegrationEvents;

/// <summary>
/// Queue of torrent events on their way to torrent-events: the reconciler and the event translator never wait for the
/// broker, and one drain keeps each torrent's events in order. Flushed on shutdown before the replica leaves the group.
/// </summary>
public sealed partial class TorrentEventOutbox(
    IIntegrationEventPublisher publisher,
    TimeProvider time,
    ILogger<TorrentEventOutbox> logger) : BackgroundService
{
    private static readonly TimeSpan[] RetryDelays = [TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)];
    private readonly Channel<TorrentEvent> _queue = Channel.CreateUnbounded<TorrentEvent>(new UnboundedChannelOptions { SingleReader = true });
    private TaskCompletionSource _idle = NewIdle(completed: true);
    private int _inFlight;

    public void Enqueue(TorrentEvent @event)
    {
        Interlocked.Increment(ref _inFlight);
        lock (_queue)
        {
            if (_idle.Task.IsCompleted)
            {
                _idle = NewIdle(completed: false);
            }
        }
        if (!_queue.Writer.TryWrite(@event))
        {
            Done();
        }
    }

    /// <summary>Completes when everything enqueued so far was published (or given up on), or when <paramref name="timeout"/> passes.</summary>
    public async Task FlushAsync(TimeSpan timeout)
    {
        Task idle;
        lock (_queue)
        {
            idle = _idle.Task;
        }
        try
        {
            await idle.WaitAsync(timeout, time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            LogFlushTimedOut(logger, Volatile.Read(ref _inFlight));
        }
    }

    /// <summary>
    /// Publishes without waiting for each acknowledgement: up to <see cref="MaxInFlight"/> at once. The producer is
    /// idempotent, so what is handed to it in order reaches each partition in order (one torrent = one key = one
    /// partition); only an event that fails and is retried here can land behind a later one of its torrent, and status
    /// events are superseded by the next ones anyway. One at a time, each publish waited out the producer's linger
    /// (5 ms): a few hundred events a second at most (benchmarks/README.md, live events).
    /// </summary>
    public const int MaxInFlight = 4096;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var window = new SemaphoreSlim(MaxInFlight);
        // Not stoppingToken: the drain goes on while the host stops, so final status still goes out; StopAsync bounds it.
        await foreach (var @event in _queue.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
        {
            await window.WaitAsync(CancellationToken.None).ConfigureAwait(false);
            _ = PublishThenReleaseAsync(@event, window);
        }
        // Let the last ones finish before the window is disposed.
        for (var i = 0; i < MaxInFlight; i++)
        {
            await window.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    private async Task PublishThenReleaseAsync(TorrentEvent @event, SemaphoreSlim window)
    {
        try
        {
            await PublishAsync(@event).ConfigureAwait(false);
        }
        finally
        {
            Done();
            window.Release();
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await FlushAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        _queue.Writer.TryComplete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task PublishAsync(TorrentEvent @event)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30), time);
                await publisher.PublishAsync(Topics.TorrentEvents, @event.InfoHash, @event, timeout.Token).ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (attempt < RetryDelays.Length)
            {
                LogRetrying(logger, ex, @event.GetType().Name, @event.InfoHash);
                await Task.Delay(RetryDelays[attempt], time).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                // Status events are superseded by the next ones; blocking every later event behind one would be worse.
                LogDropped(logger, ex, @event.GetType().Name, @event.InfoHash);
                return;
            }
        }
    }

    private void Done()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0)
        {
            lock (_queue)
            {
                if (Volatile.Read(ref _inFlight) == 0)
                {
                    _idle.TrySetResult();
                }
            }
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

    [LoggerMessage(LogLevel.Warning, "Publishing {EventType} of {InfoHash} failed; retrying")]
    private static partial void LogRetrying(ILogger logger, Exception exception, string eventType, string infoHash);

    [LoggerMessage(LogLevel.Error, "Publishing {EventType} of {InfoHash} failed; giving up on this event")]
    private static partial void LogDropped(ILogger logger, Exception exception, string eventType, string infoHash);

    [LoggerMessage(LogLevel.Warning, "{Count} torrent events were still unpublished when the flush timed out")]
    private static partial void LogFlushTimedOut(ILogger logger, int count);
}
