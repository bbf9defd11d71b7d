using Microsoft.Extensions.Options;
using TorrentEdge.Catalog.Apis.QBittorrent;
using TorrentEdge.Catalog.Model;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Infrastructure;

/// <summary>
/// Enforces share limits: a seeding torrent whose ratio or seeding time reached an owner's limit is paused for that owner
/// (what qBittorrent does by default, max_ratio_act 0). The limit is the owner's per-torrent one (qBittorrent's
/// setShareLimits, torrents/add's ratioLimit and seedingTimeLimit, Transmission's seedRatioLimit) or, when that says
/// "use the global limit" (-2), the owner's app/setPreferences defaults (max_ratio_enabled/max_ratio,
/// max_seeding_time_enabled/max_seeding_time). Catalog decides because it is the only writer of desired state; it reads
/// the ratio and the seeding time from the status it projects from torrent-events. A periodic pass, not a reaction to
/// events: an idle seed publishes no events, yet its seeding time grows.
/// </summary>
public sealed partial class ShareLimitEnforcer(
    ICatalogStore store, IServiceProvider services, IOptions<CatalogOptions> options, TimeProvider time, ILogger<ShareLimitEnforcer> logger)
    : BackgroundService
{
    private const int PageSize = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.ShareLimitCheckInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await CheckAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogCheckFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass over every seeding torrent; returns how many owners were paused. Public for tests.</summary>
    public async Task<int> CheckAsync(CancellationToken cancellationToken)
    {
        var registry = services.GetRequiredService<TorrentRegistry>();
        var preferences = new Dictionary<string, QBittorrentPreferences>(StringComparer.Ordinal);
        var now = time.GetUtcNow();
        var paused = 0;
        for (var skip = 0; ; skip += PageSize)
        {
            var page = await store.ListTorrentsAsync(new TorrentQuery(null, TorrentState.Seeding, TorrentSort.Added, false, skip, PageSize), cancellationToken);
            foreach (var torrent in page.Items)
            {
                var reached = new List<string>();
                foreach (var owner in torrent.Owners.Where(o => !o.Wishes.Paused))
                {
                    if (!preferences.TryGetValue(owner.UserId, out var prefs))
                    {
                        prefs = preferences[owner.UserId] = await QBittorrentPreferences.LoadAsync(store, owner.UserId, cancellationToken);
                    }
                    var labels = await store.FindTorrentLabelsAsync(owner.UserId, torrent.InfoHash, cancellationToken);
                    if (Reached(torrent, labels, prefs, now) is { } why)
                    {
                        reached.Add(owner.UserId);
                        LogLimitReached(logger, torrent.InfoHash, owner.UserId, why);
                    }
                }
                if (reached.Count > 0 && await registry.PauseOwnersAsync(torrent.InfoHash, reached, cancellationToken))
                {
                    paused += reached.Count;
                }
            }
            if (page.Items.Count < PageSize)
            {
                return paused;
            }
        }
    }

    /// <summary>Which limit the torrent reached for one owner ("ratio 1.02 >= 1"), or null.</summary>
    internal static string? Reached(CatalogTorrent torrent, TorrentLabels? labels, QBittorrentPreferences prefs, DateTimeOffset now)
    {
        var limits = Resolve(labels, prefs);
        var ratio = Ratio(torrent);
        if (limits.Ratio is { } maxRatio && ratio >= maxRatio)
        {
            return FormattableString.Invariant($"ratio {ratio:0.###} >= {maxRatio}");
        }
        var seeding = torrent.Status.SeedingSeconds(now);
        if (limits.SeedingMinutes is { } minutes && seeding >= minutes * 60)
        {
            return FormattableString.Invariant($"seeding time {seeding} s >= {minutes} min");
        }
        return null;
    }

    /// <summary>The limits that apply: the torrent's own, or the owner's defaults where it says -2 (none: null).</summary>
    internal static (double? Ratio, long? SeedingMinutes) Resolve(TorrentLabels? labels, QBittorrentPreferences prefs)
    {
        var ratio = labels?.RatioLimit ?? TorrentLabels.UseGlobalLimit;
        if (ratio == TorrentLabels.UseGlobalLimit)
        {
            ratio = prefs.MaxRatioEnabled ? prefs.MaxRatio : TorrentLabels.NoLimit;
        }
        var minutes = labels?.SeedingTimeLimit ?? TorrentLabels.UseGlobalLimit;
        if (minutes == TorrentLabels.UseGlobalLimit)
        {
            minutes = prefs.MaxSeedingTimeEnabled ? prefs.MaxSeedingTime : TorrentLabels.NoLimit;
        }
        return (ratio >= 0 ? ratio : null, minutes >= 0 ? minutes : null);
    }

    /// <summary>Uploaded over downloaded bytes, or over the size once complete (as the torrent view computes it).</summary>
    internal static double Ratio(CatalogTorrent t)
    {
        var s = t.Status;
        var basis = Math.Max(s.DownloadedBytes, s.Progress >= 1 ? t.TotalBytes : 0);
        return basis > 0 ? (double)s.UploadedBytes / basis : 0;
    }

    [LoggerMessage(LogLevel.Information, "Share limit of {InfoHash} reached for owner {UserId} ({Reason}): paused for that owner")]
    private static partial void LogLimitReached(ILogger logger, string infoHash, string userId, string reason);

    [LoggerMessage(LogLevel.Warning, "Checking share limits failed; the next pass tries again")]
    private static partial void LogCheckFailed(ILogger logger, Exception exception);
}
