using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Analytics.Model;

/// <summary>
/// The statistics as they are now, folded from torrent-events and served from memory. Each event sets the latest known
/// values of its torrent, so a redelivered event changes nothing; totals are computed from the per-torrent state when
/// asked. <see cref="Apply"/> hands back the torrent's record, which <see cref="StatisticsRecorder"/> persists, and
/// <see cref="Restore"/> loads the persisted records at start. One lock: events arrive one at a time from the consumer
/// and reads are occasional.
/// </summary>
public sealed class LiveStatistics(TimeProvider time)
{
    /// <summary>A torrent whose last progress is older than this no longer counts towards the current rates.</summary>
    public static readonly TimeSpan RateStaleAfter = TimeSpan.FromSeconds(15);

    public static readonly TimeSpan SampleInterval = TimeSpan.FromSeconds(10);

    public const int MaxSamples = 360;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, TorrentRecord> _torrents = new(StringComparer.OrdinalIgnoreCase);
    private readonly Queue<RateSample> _samples = new();

    /// <summary>Replaces what is known with <paramref name="records"/> (the persisted state, at start).</summary>
    public void Restore(IEnumerable<TorrentRecord> records)
    {
        lock (_gate)
        {
            _torrents.Clear();
            foreach (var record in records)
            {
                _torrents[record.InfoHash] = record.Clone();
            }
        }
    }

    /// <summary>Folds one event; returns a copy of its torrent's record as it is after the event.</summary>
    public TorrentRecord Apply(TorrentEvent e)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            if (!_torrents.TryGetValue(e.InfoHash, out var t))
            {
                t = new TorrentRecord { InfoHash = e.InfoHash.ToLowerInvariant(), FirstSeen = now };
                _torrents.Add(e.InfoHash, t);
            }
            // A redelivered or late event (lower sequence than one already folded) changes nothing.
            if (e.Sequence > 0 && e.Sequence <= t.Sequence)
            {
                return t.Clone();
            }
            t.Sequence = Math.Max(t.Sequence, e.Sequence);
            t.Owners = e.Owners;
            t.LastUpdated = now;
            switch (e)
            {
                case TorrentAdded a:
                    t.Name = a.Name ?? t.Name;
                    t.TotalBytes = a.TotalBytes;
                    t.Removed = false;
                    break;
                case TorrentMetadataReceived m:
                    t.Name = m.Name;
                    t.TotalBytes = m.TotalBytes;
                    break;
                case TorrentProgressed p:
                    t.State = p.State;
                    t.Progress = p.Progress;
                    t.TotalBytes = p.TotalBytes;
                    t.BytesDownloaded = Math.Max(t.BytesDownloaded, p.DownloadedBytes);
                    t.BytesUploaded = Math.Max(t.BytesUploaded, p.UploadedBytes);
                    t.DownloadRate = p.DownloadRate;
                    t.UploadRate = p.UploadRate;
                    t.RatesAt = now;
                    t.PeersConnected = p.PeersConnected;
                    t.PeersTotal = p.PeersTotal;
                    // Trackers answer for the same swarm; the best-informed one is the largest count.
                    t.Seeders = p.Trackers.Count == 0 ? t.Seeders : p.Trackers.Max(tr => tr.Seeders);
                    t.Leechers = p.Trackers.Count == 0 ? t.Leechers : p.Trackers.Max(tr => tr.Leechers);
                    t.SwarmKnown |= p.Trackers.Count > 0 || p.PeersTotal > 0;
                    if (p.Progress >= 1.0)
                    {
                        MarkCompleted(t, now);
                    }
                    break;
                case TorrentCompleted c:
                    t.TotalBytes = c.TotalBytes;
                    t.Progress = 1.0;
                    MarkCompleted(t, now);
                    break;
                case TorrentSeeding:
                    t.State = TorrentState.Seeding;
                    t.Progress = 1.0;
                    MarkCompleted(t, now);
                    break;
                case TorrentFailed f:
                    t.State = TorrentState.Error;
                    t.LastError = f.Reason;
                    break;
                case TorrentStateChanged s:
                    t.State = s.State;
                    break;
                case TorrentRemoved:
                    t.State = TorrentState.Removed;
                    t.Removed = true;
                    break;
                case TorrentPiecesVerified v when v.PieceCount > 0:
                    t.Progress = Math.Max(t.Progress, (double)v.VerifiedCount / v.PieceCount);
                    break;
            }
            SampleRates(now);
            return t.Clone();
        }
    }

    /// <summary>The info-hashes of the torrents <paramref name="owner"/> owns (every torrent when null).</summary>
    public IReadOnlyList<string> TorrentsOf(string? owner)
    {
        lock (_gate)
        {
            return [.. _torrents.Values.Where(t => IsVisible(t, owner)).Select(t => t.InfoHash)];
        }
    }

    /// <summary>Whether <paramref name="userId"/> owns any torrent known here.</summary>
    public bool KnowsUser(string userId)
    {
        lock (_gate)
        {
            return _torrents.Values.Any(t => t.Owners.Contains(userId, StringComparer.Ordinal));
        }
    }

    /// <summary>One torrent; with <paramref name="owner"/>, only if that user owns it.</summary>
    public TorrentStatistics? GetTorrent(string infoHash, string? owner = null)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            return _torrents.TryGetValue(infoHash, out var t) && IsVisible(t, owner) ? t.ToStatistics(now) : null;
        }
    }

    /// <summary>
    /// Everything, or with <paramref name="owner"/> only that user's slice: their torrents, their own per-user entry, totals
    /// and swarm health over their torrents, and no rate history (the samples are over all torrents).
    /// </summary>
    public StatisticsSnapshot GetSnapshot(string? owner = null)
    {
        var now = time.GetUtcNow();
        lock (_gate)
        {
            var torrents = _torrents.Values.Where(t => !t.Removed && IsVisible(t, owner)).Select(t => t.ToStatistics(now)).ToList();
            var totals = new TotalStatistics(
                Torrents: torrents.Count,
                Active: torrents.Count(t => t.State is TorrentState.Downloading or TorrentState.Seeding or TorrentState.FetchingMetadata or TorrentState.Checking),
                Completed: torrents.Count(t => t.Completed),
                Failed: torrents.Count(t => t.State == TorrentState.Error),
                BytesDownloaded: torrents.Sum(t => t.BytesDownloaded),
                BytesUploaded: torrents.Sum(t => t.BytesUploaded),
                DownloadRate: torrents.Sum(t => t.DownloadRate),
                UploadRate: torrents.Sum(t => t.UploadRate),
                PeersConnected: torrents.Sum(t => t.PeersConnected));

            var users = torrents
                .SelectMany(t => t.Owners.Select(o => (Owner: o, Torrent: t)))
                .Where(x => owner is null || x.Owner == owner)
                .GroupBy(x => x.Owner, StringComparer.Ordinal)
                .Select(g => new UserStatistics(
                    g.Key,
                    g.Count(),
                    g.Count(x => x.Torrent.Completed),
                    g.Sum(x => x.Torrent.BytesDownloaded),
                    g.Sum(x => x.Torrent.BytesUploaded),
                    g.Sum(x => x.Torrent.DownloadRate),
                    g.Sum(x => x.Torrent.UploadRate)))
                .OrderBy(u => u.UserId, StringComparer.Ordinal)
                .ToList();

            var health = new SwarmHealthSummary(
                torrents.Count(t => t.SwarmHealth == SwarmHealth.Healthy),
                torrents.Count(t => t.SwarmHealth == SwarmHealth.Weak),
                torrents.Count(t => t.SwarmHealth == SwarmHealth.Dead),
                torrents.Count(t => t.SwarmHealth == SwarmHealth.Unknown),
                torrents.Count == 0 ? 0 : torrents.Average(t => t.PeersConnected));

            return new StatisticsSnapshot(now, totals, users, health, owner is null ? [.. _samples] : []);
        }
    }

    /// <summary>One user's totals; with <paramref name="owner"/>, only that user's own.</summary>
    public UserStatistics? GetUser(string userId, string? owner = null)
        => owner is not null && userId != owner ? null : GetSnapshot(owner).Users.FirstOrDefault(u => u.UserId == userId);

    private static bool IsVisible(TorrentRecord t, string? owner) => owner is null || t.Owners.Contains(owner, StringComparer.Ordinal);

    private static void MarkCompleted(TorrentRecord t, DateTimeOffset now)
    {
        if (!t.Completed)
        {
            t.Completed = true;
            t.CompletedAt = now;
        }
    }

    // Called under the lock: at most one sample per interval, of the rates current at that moment.
    private void SampleRates(DateTimeOffset now)
    {
        if (_samples.Count > 0 && now - _samples.Last().At < SampleInterval)
        {
            return;
        }
        var live = _torrents.Values.Where(t => !t.Removed && now - t.RatesAt <= RateStaleAfter).ToList();
        _samples.Enqueue(new RateSample(now, live.Sum(t => t.DownloadRate), live.Sum(t => t.UploadRate)));
        while (_samples.Count > MaxSamples)
        {
            _samples.Dequeue();
        }
    }

}

/// <summary>One torrent's folded state: what <see cref="LiveStatistics"/> keeps and the statistics store persists.</summary>
public sealed class TorrentRecord
{
    public required string InfoHash { get; init; }
    /// <summary>The sequence of the last event folded (the worker's order, across owners).</summary>
    public long Sequence { get; set; }
    public DateTimeOffset FirstSeen { get; init; }
    public IReadOnlyList<string> Owners { get; set; } = [];
    public string? Name { get; set; }
    public TorrentState State { get; set; } = TorrentState.Queued;
    public double Progress { get; set; }
    public long TotalBytes { get; set; }
    public long BytesDownloaded { get; set; }
    public long BytesUploaded { get; set; }
    public long DownloadRate { get; set; }
    public long UploadRate { get; set; }
    public DateTimeOffset RatesAt { get; set; }
    public int PeersConnected { get; set; }
    public int PeersTotal { get; set; }
    public int Seeders { get; set; }
    public int Leechers { get; set; }
    public bool SwarmKnown { get; set; }
    public bool Completed { get; set; }
    public DateTimeOffset? CompletedAt { get; set; }
    public string? LastError { get; set; }
    public bool Removed { get; set; }
    public DateTimeOffset LastUpdated { get; set; }

    public TorrentRecord Clone() => (TorrentRecord)MemberwiseClone();

    public TorrentStatistics ToStatistics(DateTimeOffset now)
    {
        // Rates are only "current" while progress keeps arriving; a silent torrent transfers nothing we know of.
        var fresh = now - RatesAt <= LiveStatistics.RateStaleAfter;
        var health = Completed ? SwarmHealth.Healthy
            : !SwarmKnown ? SwarmHealth.Unknown
            : Seeders >= 3 ? SwarmHealth.Healthy
            : Seeders > 0 ? SwarmHealth.Weak
            : SwarmHealth.Dead;
        return new TorrentStatistics(InfoHash, Name, Owners, State, Progress, TotalBytes, BytesDownloaded, BytesUploaded,
            fresh ? DownloadRate : 0, fresh ? UploadRate : 0, PeersConnected, PeersTotal, Seeders, Leechers, health,
            Completed, LastError, FirstSeen, LastUpdated, CompletedAt);
    }
}
