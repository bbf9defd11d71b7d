using Microsoft.Extensions.Options;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Contracts;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Catalog.IntegrationEvents;

/// <summary>
/// Notices when torrent-specs lost its contents while Catalog runs (the topic deleted and created again, or a broker
/// that keeps its log in memory restarted) and puts every torrent back into the outbox, so the workers learn the whole
/// desired state again. The sign: the sum of the partitions' end offsets went down, which nothing else makes happen.
/// </summary>
public sealed partial class SpecTopicWatch(
    ICatalogStore store,
    OutboxSignal signal,
    ITopicEndOffsets offsets,
    IOptions<CatalogOptions> options,
    TimeProvider time,
    ILogger<SpecTopicWatch> logger) : BackgroundService
{
    private long? _lastSum;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.SpecTopicCheckInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(interval, time, stoppingToken).ConfigureAwait(false);
                await CheckAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogCheckFailed(logger, e);
            }
        }
    }

    /// <summary>One look at the topic; true when it was found emptied and every torrent was queued to be published again.</summary>
    public async Task<bool> CheckAsync(CancellationToken cancellationToken)
    {
        var sum = await offsets.SumAsync(Topics.TorrentSpecs, cancellationToken).ConfigureAwait(false);
        if (sum is not { } current)
        {
            // Unreachable or absent: nothing to compare; the outbox keeps retrying its publishes meanwhile.
            return false;
        }
        var previous = _lastSum;
        _lastSum = current;
        if (previous is not { } before || current >= before)
        {
            return false;
        }
        var queued = await store.MarkAllUnpublishedAsync(cancellationToken).ConfigureAwait(false);
        signal.Notify();
        LogTopicLost(logger, Topics.TorrentSpecs, before, current, queued);
        return true;
    }

    [LoggerMessage(LogLevel.Warning, "{Topic} went back from {Before} to {After} records in all: it was recreated or lost its log; publishing the desired state of all {Count} torrents again")]
    private static partial void LogTopicLost(ILogger logger, string topic, long before, long after, long count);

    [LoggerMessage(LogLevel.Debug, "Checking torrent-specs' end offsets failed")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);
}
