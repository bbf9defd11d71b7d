using TorrentEdge.Analytics.Infrastructure;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Analytics.Model;

/// <summary>
/// Takes each torrent event once: skips an id already recorded (a redelivery), folds the event into the live
/// statistics, and persists the outcome with the event's id in one write.
/// </summary>
public sealed class StatisticsRecorder(LiveStatistics live, IStatisticsStore store)
{
    /// <summary>True when the event was new and is now recorded; false for a duplicate.</summary>
    public async Task<bool> RecordAsync(TorrentEvent e, CancellationToken cancellationToken)
    {
        if (await store.IsRecordedAsync(e.Id, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }
        var record = live.Apply(e);
        var rate = e is TorrentProgressed p ? new RateObservation(p.InfoHash, p.OccurredAt, p.DownloadRate, p.UploadRate) : null;
        return await store.RecordAsync(e.Id, record, rate, cancellationToken).ConfigureAwait(false);
    }
}
