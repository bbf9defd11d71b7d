using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Options;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Contracts;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Catalog.IntegrationEvents;

/// <summary>
/// Wakes the outbox dispatcher as soon as a desired state changed, instead of waiting for its next poll, and
/// remembers which trace changed each torrent, so that its spec's publish (and the worker that consumes it) continues
/// the user's request in one trace rather than starting a new one.
/// </summary>
public sealed class OutboxSignal
{
    // Bounded: causes of specs that are never dispatched (the process stops first) must not pile up.
    private const int MaxCauses = 10_000;
    private readonly SemaphoreSlim _signal = new(0, 1);
    private readonly ConcurrentDictionary<string, ActivityContext> _causes = new(StringComparer.Ordinal);

    /// <summary>A torrent's desired state changed, in the current activity's trace.</summary>
    public void Notify(string infoHash)
    {
        if (Activity.Current is { } activity)
        {
            if (_causes.Count >= MaxCauses)
            {
                _causes.Clear();
            }
            _causes[infoHash] = activity.Context;
        }
        Notify();
    }

    /// <summary>The trace that last changed the torrent, once; default when unknown (changed before a restart).</summary>
    public ActivityContext TakeCause(string infoHash) => _causes.TryRemove(infoHash, out var cause) ? cause : default;

    public void Notify()
    {
        // At most one pending wake-up: several changes in a row need only one pass.
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

    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _signal.WaitAsync(timeout, cancellationToken);
}

/// <summary>
/// Publishes each torrent whose desired state is ahead of what the broker acknowledged to torrent-specs, and marks it
/// published only after the publish succeeded; a failed publish leaves it pending and is retried with back-off.
/// </summary>
public sealed partial class OutboxDispatcher(
    ICatalogStore store,
    OutboxSignal signal,
    IOptions<CatalogOptions> options,
    TimeProvider time,
    ILogger<OutboxDispatcher> logger,
    IIntegrationEventPublisher? publisher = null) : BackgroundService
{
    private const int BatchSize = 100;

    /// <summary>"TorrentEdge.Catalog": the outbox's activities, children of the request that changed the torrent.</summary>
    public static readonly ActivitySource ActivitySource = new("TorrentEdge.Catalog");

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (publisher is null)
        {
            // Without a publisher specs stay in the outbox; they go out once messaging is configured.
            LogNoPublisher(logger);
            return;
        }
        var backoff = TimeSpan.Zero;
        var republish = options.Value.RepublishOnStart;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (republish)
                {
                    // The log may have lost everything (an in-memory broker, a recreated topic): the store is the truth.
                    LogRepublishing(logger, await store.MarkAllUnpublishedAsync(stoppingToken));
                    republish = false;
                }
                await DispatchPendingAsync(stoppingToken);
                backoff = TimeSpan.Zero;
                await signal.WaitAsync(options.Value.OutboxPollInterval, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                backoff = backoff == TimeSpan.Zero
                    ? TimeSpan.FromMilliseconds(200)
                    : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.Value.OutboxMaxBackoff.Ticks));
                LogPublishFailed(logger, e, backoff);
                try
                {
                    await Task.Delay(backoff, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>One pass over the outbox; returns how many specs were published. Throws when a publish fails.</summary>
    public async Task<int> DispatchPendingAsync(CancellationToken cancellationToken)
    {
        if (publisher is null)
        {
            throw new InvalidOperationException("No IIntegrationEventPublisher is registered.");
        }
        var published = 0;
        while (true)
        {
            var pending = await store.ListUnpublishedAsync(BatchSize, cancellationToken);
            if (pending.Count == 0)
            {
                return published;
            }
            foreach (var torrent in pending)
            {
                var inline = torrent.Metainfo is { Length: var length } && length <= options.Value.InlineMetainfoMaxBytes;
                var spec = torrent.ToSpec(inline);
                var cause = signal.TakeCause(torrent.InfoHash);
                using var activity = cause == default ? null : ActivitySource.StartActivity("torrent-specs outbox", ActivityKind.Internal, cause);
                activity?.SetTag("torrentedge.info_hash", torrent.InfoHash);
                await publisher.PublishAsync(Topics.TorrentSpecs, torrent.InfoHash, spec, cancellationToken);
                // Only now is the spec safe in the log; a crash before this line republishes it, which the revision makes harmless.
                await store.MarkPublishedAsync(torrent.InfoHash, torrent.Revision, cancellationToken);
                LogPublished(logger, torrent.InfoHash, torrent.Revision);
                published++;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No integration event publisher is registered; torrent specs stay in the outbox")]
    private static partial void LogNoPublisher(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Publishing the desired state of all {Count} torrents again (start)")]
    private static partial void LogRepublishing(ILogger logger, long count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Published spec of {InfoHash} at revision {Revision}")]
    private static partial void LogPublished(ILogger logger, string infoHash, long revision);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing torrent specs failed; retrying in {Backoff}")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, TimeSpan backoff);
}
