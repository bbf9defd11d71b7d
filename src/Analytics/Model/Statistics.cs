using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Analytics.Model;

/// <summary>Everything at once: totals, per user, swarm health and recent rate samples.</summary>
public sealed record StatisticsSnapshot(
    DateTimeOffset GeneratedAt,
    TotalStatistics Totals,
    IReadOnlyList<UserStatistics> Users,
    SwarmHealthSummary SwarmHealth,
    IReadOnlyList<RateSample> RateHistory);

/// <summary>Sums over the torrents that are not removed.</summary>
public sealed record TotalStatistics(
    int Torrents,
    int Active,
    int Completed,
    int Failed,
    long BytesDownloaded,
    long BytesUploaded,
    long DownloadRate,
    long UploadRate,
    int PeersConnected);

public sealed record UserStatistics(
    string UserId,
    int Torrents,
    int Completed,
    long BytesDownloaded,
    long BytesUploaded,
    long DownloadRate,
    long UploadRate);

/// <summary>One torrent as last reported.</summary>
public sealed record TorrentStatistics(
    string InfoHash,
    string? Name,
    IReadOnlyList<string> Owners,
    TorrentState State,
    double Progress,
    long TotalBytes,
    long BytesDownloaded,
    long BytesUploaded,
    long DownloadRate,
    long UploadRate,
    int PeersConnected,
    int PeersTotal,
    int Seeders,
    int Leechers,
    SwarmHealth SwarmHealth,
    bool Completed,
    string? LastError,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastUpdated,
    DateTimeOffset? CompletedAt);

/// <summary>How well a torrent's swarm can serve it, from tracker counts and connected peers.</summary>
public enum SwarmHealth
{
    /// <summary>Not heard from trackers or peers yet.</summary>
    Unknown,
    /// <summary>No seeder known and the torrent is incomplete here.</summary>
    Dead,
    /// <summary>One or two seeders.</summary>
    Weak,
    /// <summary>Three or more seeders, or complete here.</summary>
    Healthy,
}

public sealed record SwarmHealthSummary(int Healthy, int Weak, int Dead, int Unknown, double AveragePeersConnected);

/// <summary>Total rates at one moment (one sample per interval).</summary>
public sealed record RateSample(DateTimeOffset At, long DownloadRate, long UploadRate);

/// <summary>Rates in one bucket of history: bytes per second, averaged within the bucket, summed over the torrents asked for.</summary>
public sealed record RatePoint(DateTimeOffset At, long DownloadRate, long UploadRate);

/// <summary>Rate history of a torrent or a user over [From, To) at one step.</summary>
public sealed record RateHistory(string Subject, DateTimeOffset From, DateTimeOffset To, int StepSeconds, IReadOnlyList<RatePoint> Points);
