using TorrentEdge.Analytics.Model;

namespace TorrentEdge.Analytics.Infrastructure;

/// <summary>Where Analytics keeps what it learned from torrent-events, so a restart loses nothing.</summary>
/// <remarks>
/// Implemented on SQLite (embedded default) and MongoDB (production); one contract test suite covers both.
/// Rate history is kept at three resolutions: per second for <see cref="RateHistoryRetention.Second"/>, per minute for
/// <see cref="RateHistoryRetention.Minute"/>, per hour for ever; <see cref="PruneAsync"/> drops what is older.
/// </remarks>
public interface IStatisticsStore
{
    /// <summary>Creates the schema or indexes; called once at start.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Every torrent's folded state, to restore the live statistics at start.</summary>
    Task<IReadOnlyList<TorrentRecord>> LoadTorrentsAsync(CancellationToken cancellationToken);

    /// <summary>Whether the event with <paramref name="eventId"/> was recorded already (a redelivery).</summary>
    Task<bool> IsRecordedAsync(Guid eventId, CancellationToken cancellationToken);

    /// <summary>
    /// Records one event's outcome: its id, the torrent's record after it, and its rates (progress events) added to the
    /// second, minute and hour buckets of <see cref="RateObservation.At"/>. Returns false and changes nothing when the
    /// event id was recorded before, so an event delivered twice counts once.
    /// </summary>
    Task<bool> RecordAsync(Guid eventId, TorrentRecord torrent, RateObservation? rate, CancellationToken cancellationToken);

    /// <summary>
    /// The rates of <paramref name="infoHashes"/> summed per bucket of <paramref name="step"/> (each torrent's average within
    /// the bucket), for buckets starting in [<paramref name="from"/>, <paramref name="to"/>), oldest first; buckets without
    /// any observation are left out.
    /// </summary>
    Task<IReadOnlyList<RatePoint>> GetRateHistoryAsync(IReadOnlyCollection<string> infoHashes, HistoryStep step, DateTimeOffset from, DateTimeOffset to,
        CancellationToken cancellationToken);

    /// <summary>Drops rate buckets past their resolution's retention and event ids older than <see cref="RateHistoryRetention.EventIds"/>.</summary>
    Task PruneAsync(DateTimeOffset now, CancellationToken cancellationToken);
}

/// <summary>The resolutions of rate history, as their length in seconds.</summary>
public enum HistoryStep
{
    Second = 1,
    Minute = 60,
    Hour = 3600,
}

/// <summary>How long each resolution of rate history (and each recorded event id) is kept.</summary>
public static class RateHistoryRetention
{
    public static readonly TimeSpan Second = TimeSpan.FromHours(1);
    public static readonly TimeSpan Minute = TimeSpan.FromDays(1);

    /// <summary>
    /// Redeliveries come from offsets not yet committed when a consumer stopped: minutes. A week also covers a consumer
    /// group reset to an earlier point within the topic's usual retention.
    /// </summary>
    public static readonly TimeSpan EventIds = TimeSpan.FromDays(7);

    /// <summary>How long <paramref name="step"/> is kept; null for ever.</summary>
    public static TimeSpan? For(HistoryStep step) => step switch
    {
        HistoryStep.Second => Second,
        HistoryStep.Minute => Minute,
        _ => null,
    };

    /// <summary>Start of the bucket of <paramref name="step"/> holding <paramref name="at"/>, in Unix seconds.</summary>
    public static long BucketOf(DateTimeOffset at, HistoryStep step)
    {
        var seconds = at.ToUnixTimeSeconds();
        return seconds - (((seconds % (int)step) + (int)step) % (int)step);
    }
}

/// <summary>One torrent's rates at one moment (from a progress event; the worker's clock).</summary>
public sealed record RateObservation(string InfoHash, DateTimeOffset At, long DownloadRate, long UploadRate);
