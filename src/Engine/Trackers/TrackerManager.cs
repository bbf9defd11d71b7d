using System.Net;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Trackers;

/// <summary>Timing of a <see cref="TrackerManager"/>.</summary>
public sealed record TrackerManagerOptions
{
    /// <summary>Limit for one announce to one tracker.</summary>
    public TimeSpan AnnounceTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Limit for the "stopped" announces when a torrent stops.</summary>
    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Backoff after the first failure; doubles per further failure, with ±25 % jitter.</summary>
    public TimeSpan MinBackoff { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Lower bound between announces we trigger ourselves, when the tracker gave no "min interval".</summary>
    public TimeSpan DefaultMinInterval { get; init; } = TimeSpan.FromMinutes(1);

    public int NumWant { get; init; } = 50;
}

/// <summary>Transfer counters sent with an announce.</summary>
public readonly record struct AnnounceStats(long Uploaded, long Downloaded, long Left);

/// <summary>Result of one announce round: peers from the tracker that answered, or the last error.</summary>
public sealed record AnnounceResult(bool Success, string? TrackerUrl, AnnounceEvent Event, IReadOnlyList<IPEndPoint> Peers, string? Error);

/// <summary>How a tracker is doing, for the UI.</summary>
public enum TrackerHealth
{
    NotContacted,
    Working,
    Failing,
    Unsupported,
}

/// <summary>Snapshot of one tracker of a torrent.</summary>
public sealed record TrackerStatus(
    string Url,
    int Tier,
    TrackerHealth Health,
    int? Seeders,
    int? Leechers,
    int? Downloaded,
    DateTimeOffset? LastAnnounce,
    DateTimeOffset? LastSuccess,
    string? LastError,
    TrackerErrorKind? LastErrorKind,
    int ConsecutiveFailures,
    DateTimeOffset? RetryAt,
    string? WarningMessage,
    int PeersReceived);

/// <summary>
/// The trackers of one torrent (BEP 12): tiers tried in order, trackers shuffled within a tier and one
/// that answers moved to the front; per-tracker health and backoff; intervals honoured; started,
/// completed and stopped sent when they should be. Driven by one caller at a time (the torrent's
/// loop): it asks <see cref="IsAnnounceDue"/> on its tick. <see cref="Status"/> may be read from anywhere.
/// </summary>
public sealed class TrackerManager : IDisposable
{
    private readonly InfoHash _infoHash;
    private readonly ReadOnlyMemory<byte> _peerId;
    private readonly int _port;
    private readonly TrackerManagerOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly List<List<Tracker>> _tiers;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly uint _key;
    private volatile IReadOnlyList<TrackerStatus> _status = [];
    private DateTimeOffset _nextAnnounceAt;
    private DateTimeOffset? _lastSuccessAt;
    private TimeSpan? _minInterval;
    private bool _completedPending;
    private bool _completedSent;

    public TrackerManager(
        InfoHash infoHash,
        ReadOnlyMemory<byte> peerId,
        int port,
        IReadOnlyList<IReadOnlyList<string>> tiers,
        ITrackerClientFactory factory,
        TrackerManagerOptions? options = null,
        TimeProvider? timeProvider = null,
        Random? random = null)
    {
        ArgumentNullException.ThrowIfNull(tiers);
        ArgumentNullException.ThrowIfNull(factory);
        if (peerId.Length != 20) throw new ArgumentException("A peer id has 20 bytes.", nameof(peerId));
        _infoHash = infoHash;
        _peerId = peerId;
        _port = port;
        _options = options ?? new TrackerManagerOptions();
        _time = timeProvider ?? TimeProvider.System;
        _random = random ?? Random.Shared;
        _key = (uint)_random.NextInt64(0, uint.MaxValue);
        _tiers = [];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tier in tiers)
        {
            var list = new List<Tracker>();
            foreach (var url in tier)
            {
                if (!seen.Add(url)) continue;
                ITrackerClient? client = null;
                if (Uri.TryCreate(url, UriKind.Absolute, out var uri))
                {
                    client = factory.Create(uri);
                }

                list.Add(new Tracker(url, _tiers.Count, client));
            }

            if (list.Count == 0) continue;
            // BEP 12: shuffle each tier once, then keep the order, moving a tracker that answers to the front.
            for (var i = list.Count - 1; i > 0; i--)
            {
                var j = _random.Next(i + 1);
                (list[i], list[j]) = (list[j], list[i]);
            }

            _tiers.Add(list);
        }

        _nextAnnounceAt = _time.GetUtcNow();
        PublishStatus();
    }

    /// <summary>Per-tracker status, tier by tier in current order.</summary>
    public IReadOnlyList<TrackerStatus> Status => _status;

    /// <summary>When the next announce should happen.</summary>
    public DateTimeOffset NextAnnounceAt => _nextAnnounceAt;

    /// <summary>True when at least one tracker has a supported scheme.</summary>
    public bool HasUsableTrackers => _tiers.Any(t => t.Any(x => x.Client is not null));

    public bool IsAnnounceDue => HasUsableTrackers && _time.GetUtcNow() >= _nextAnnounceAt;

    /// <summary>The download finished: the next announce says "completed" (once), and it is due now.</summary>
    public void MarkCompleted()
    {
        if (_completedSent) return;
        _completedPending = true;
        _nextAnnounceAt = _time.GetUtcNow();
    }

    /// <summary>Asks for an announce as soon as the trackers' "min interval" allows; true if it is due now.</summary>
    public bool RequestAnnounce()
    {
        var now = _time.GetUtcNow();
        var earliest = _lastSuccessAt is { } last ? last + (_minInterval ?? _options.DefaultMinInterval) : now;
        _nextAnnounceAt = earliest > now ? earliest : now;
        return _nextAnnounceAt <= now;
    }

    /// <summary>
    /// One announce round: tiers in order, trackers in their tier's order, skipping those in backoff
    /// (unless all are), until one answers.
    /// </summary>
    public async ValueTask<AnnounceResult> AnnounceAsync(AnnounceStats stats, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var now = _time.GetUtcNow();
            var candidates = _tiers.SelectMany(t => t).Where(t => t.Client is not null).ToList();
            if (candidates.Count == 0) return new AnnounceResult(false, null, AnnounceEvent.None, [], "No usable tracker.");
            var ignoreBackoff = candidates.All(t => t.RetryAt > now);

            string? lastError = null;
            foreach (var tier in _tiers)
            {
                for (var i = 0; i < tier.Count; i++)
                {
                    var tracker = tier[i];
                    if (tracker.Client is null || (!ignoreBackoff && tracker.RetryAt > now)) continue;
                    var ev = !tracker.Started ? AnnounceEvent.Started
                        : _completedPending && !_completedSent ? AnnounceEvent.Completed
                        : AnnounceEvent.None;
                    var response = await TryAnnounceAsync(tracker, ev, stats, _options.AnnounceTimeout, cancellationToken).ConfigureAwait(false);
                    if (response is null)
                    {
                        lastError = $"{tracker.Url}: {tracker.LastError}";
                        continue;
                    }

                    if (ev == AnnounceEvent.Completed || (ev == AnnounceEvent.Started && stats.Left == 0 && _completedPending))
                    {
                        _completedSent = true;
                        _completedPending = false;
                    }

                    tier.RemoveAt(i);
                    tier.Insert(0, tracker);
                    now = _time.GetUtcNow();
                    _lastSuccessAt = now;
                    _minInterval = response.MinInterval;
                    _nextAnnounceAt = now + response.Interval;
                    PublishStatus();
                    return new AnnounceResult(true, tracker.Url, ev, response.Peers, null);
                }
            }

            var retry = candidates.Min(t => t.RetryAt) ?? _time.GetUtcNow() + _options.MinBackoff;
            _nextAnnounceAt = retry;
            PublishStatus();
            return new AnnounceResult(false, null, AnnounceEvent.None, [], lastError ?? "All trackers are backing off.");
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Sends "stopped" to every tracker that was told "started" (best effort, bounded).</summary>
    public async ValueTask StopAsync(AnnounceStats stats, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var started = _tiers.SelectMany(t => t).Where(t => t.Started && t.Client is not null).ToList();
            await Task.WhenAll(started.Select(t => TryAnnounceAsync(t, AnnounceEvent.Stopped, stats, _options.StopTimeout, cancellationToken).AsTask())).ConfigureAwait(false);
            foreach (var t in started) t.Started = false;
            _nextAnnounceAt = _time.GetUtcNow();
            PublishStatus();
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Scrapes every tracker that can, updating seeders, leechers and downloaded in <see cref="Status"/>.</summary>
    public async ValueTask ScrapeAsync(CancellationToken cancellationToken)
    {
        var trackers = _tiers.SelectMany(t => t).Where(t => t.Client is { CanScrape: true }).ToList();
        await Task.WhenAll(trackers.Select(async t =>
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.AnnounceTimeout);
            try
            {
                var r = await t.Client!.ScrapeAsync([_infoHash], timeout.Token).ConfigureAwait(false);
                if (r.TryGetValue(_infoHash, out var s))
                {
                    t.Seeders = s.Complete;
                    t.Leechers = s.Incomplete;
                    t.Downloaded = s.Downloaded;
                }
            }
            catch (Exception e) when (e is TrackerException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Scrape is informational; announce health is what counts.
            }
        })).ConfigureAwait(false);
        PublishStatus();
    }

    public void Dispose()
    {
        foreach (var t in _tiers.SelectMany(t => t)) t.Client?.Dispose();
        _gate.Dispose();
    }

    private async ValueTask<AnnounceResponse?> TryAnnounceAsync(Tracker tracker, AnnounceEvent ev, AnnounceStats stats, TimeSpan limit, CancellationToken cancellationToken)
    {
        var request = new AnnounceRequest
        {
            InfoHash = _infoHash,
            PeerId = _peerId,
            Port = _port,
            Uploaded = stats.Uploaded,
            Downloaded = stats.Downloaded,
            Left = stats.Left,
            Event = ev,
            NumWant = ev == AnnounceEvent.Stopped ? 0 : _options.NumWant,
            Key = _key,
            TrackerId = tracker.TrackerId,
        };
        tracker.LastAnnounce = _time.GetUtcNow();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(limit);
        try
        {
            var response = await tracker.Client!.AnnounceAsync(request, timeout.Token).ConfigureAwait(false);
            tracker.LastSuccess = _time.GetUtcNow();
            tracker.ConsecutiveFailures = 0;
            tracker.RetryAt = null;
            tracker.LastError = null;
            tracker.LastErrorKind = null;
            tracker.Started = ev != AnnounceEvent.Stopped;
            tracker.TrackerId = response.TrackerId ?? tracker.TrackerId;
            tracker.Seeders = response.Complete ?? tracker.Seeders;
            tracker.Leechers = response.Incomplete ?? tracker.Leechers;
            tracker.Warning = response.WarningMessage;
            tracker.PeersReceived = response.Peers.Count;
            return response;
        }
        catch (Exception e) when (e is TrackerException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            tracker.ConsecutiveFailures++;
            tracker.LastError = e is TrackerException te ? te.Message : "Timed out.";
            tracker.LastErrorKind = e is TrackerException te2 ? te2.Kind : TrackerErrorKind.Timeout;
            tracker.RetryAt = _time.GetUtcNow() + Backoff(tracker.ConsecutiveFailures);
            return null;
        }
    }

    private TimeSpan Backoff(int failures)
    {
        var baseDelay = _options.MinBackoff * Math.Pow(2, Math.Min(failures - 1, 20));
        if (baseDelay > _options.MaxBackoff) baseDelay = _options.MaxBackoff;
        // Jitter spreads out the retries of many torrents that failed together.
        return baseDelay * (0.75 + (_random.NextDouble() * 0.5));
    }

    private void PublishStatus()
    {
        _status = _tiers.SelectMany(t => t).Select(t => new TrackerStatus(
            t.Url,
            t.Tier,
            t.Client is null ? TrackerHealth.Unsupported : t.ConsecutiveFailures > 0 ? TrackerHealth.Failing : t.LastSuccess is null ? TrackerHealth.NotContacted : TrackerHealth.Working,
            t.Seeders,
            t.Leechers,
            t.Downloaded,
            t.LastAnnounce,
            t.LastSuccess,
            t.LastError,
            t.LastErrorKind,
            t.ConsecutiveFailures,
            t.RetryAt,
            t.Warning,
            t.PeersReceived)).ToArray();
    }

    private sealed class Tracker(string url, int tier, ITrackerClient? client)
    {
        public string Url { get; } = url;

        public int Tier { get; } = tier;

        public ITrackerClient? Client { get; } = client;

        public bool Started { get; set; }

        public string? TrackerId { get; set; }

        public DateTimeOffset? LastAnnounce { get; set; }

        public DateTimeOffset? LastSuccess { get; set; }

        public string? LastError { get; set; }

        public TrackerErrorKind? LastErrorKind { get; set; }

        public int ConsecutiveFailures { get; set; }

        public DateTimeOffset? RetryAt { get; set; }

        public int? Seeders { get; set; }

        public int? Leechers { get; set; }

        public int? Downloaded { get; set; }

        public string? Warning { get; set; }

        public int PeersReceived { get; set; }
    }
}
