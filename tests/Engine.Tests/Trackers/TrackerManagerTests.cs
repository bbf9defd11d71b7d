using System.Net;
using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Trackers;

namespace TorrentEdge.Engine.Tests.Trackers;

public class TrackerManagerTests
{
    private static readonly InfoHash Hash = InfoHash.Parse("c12fe1c06bba254a9dc9f519b335aa7c1367a88a");
    private static readonly byte[] PeerId = "-TE0100-000000000000"u8.ToArray();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly Factory _factory = new();

    private sealed class FakeClient(Uri uri) : ITrackerClient
    {
        public Uri Uri { get; } = uri;

        public bool CanScrape => true;

        public Func<AnnounceRequest, AnnounceResponse> Respond { get; set; } = _ => new AnnounceResponse { Interval = TimeSpan.FromMinutes(30) };

        public List<AnnounceRequest> Requests { get; } = [];

        public ValueTask<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken)
        {
            Requests.Add(request);
            return ValueTask.FromResult(Respond(request));
        }

        public ValueTask<IReadOnlyDictionary<InfoHash, ScrapeStats>> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken)
            => ValueTask.FromResult<IReadOnlyDictionary<InfoHash, ScrapeStats>>(new Dictionary<InfoHash, ScrapeStats> { [Hash] = new(4, 9, 6) });

        public void Dispose()
        {
        }
    }

    private sealed class Factory : ITrackerClientFactory
    {
        public Dictionary<string, FakeClient> Clients { get; } = [];

        public ITrackerClient? Create(Uri uri)
        {
            if (uri.Scheme is not ("http" or "udp")) return null;
            var c = new FakeClient(uri);
            Clients[uri.OriginalString] = c;
            return c;
        }
    }

    private static AnnounceResponse Fail(AnnounceRequest _) => throw new TrackerException(TrackerErrorKind.TrackerFailure, "go away");

    private TrackerManager Create(IReadOnlyList<IReadOnlyList<string>> tiers, int seed = 1, TrackerManagerOptions? options = null)
        => new(Hash, PeerId, 6881, tiers, _factory, options, _time, new Random(seed));

    private static readonly AnnounceStats Leeching = new(0, 0, 1000);

    [Fact]
    public async Task AnnounceAsync_First_SendsStartedThenNoneAfterInterval()
    {
        using var m = Create([["http://a/announce"]]);
        Assert.True(m.IsAnnounceDue);
        var r = await m.AnnounceAsync(Leeching, TestContext.Current.CancellationToken);
        Assert.True(r.Success);
        Assert.Equal(AnnounceEvent.Started, r.Event);
        Assert.False(m.IsAnnounceDue);
        Assert.Equal(_time.GetUtcNow() + TimeSpan.FromMinutes(30), m.NextAnnounceAt);

        _time.Advance(TimeSpan.FromMinutes(30));
        Assert.True(m.IsAnnounceDue);
        r = await m.AnnounceAsync(Leeching, TestContext.Current.CancellationToken);
        Assert.Equal(AnnounceEvent.None, r.Event);
        Assert.Equal([AnnounceEvent.Started, AnnounceEvent.None], _factory.Clients["http://a/announce"].Requests.Select(q => q.Event));
        Assert.Equal(TrackerHealth.Working, Assert.Single(m.Status).Health);
    }

    [Fact]
    public async Task AnnounceAsync_FirstTierFails_FailsOverToNextTier()
    {
        using var m = Create([["http://bad/announce"], ["udp://good:1/announce"]]);
        _factory.Clients["http://bad/announce"].Respond = Fail;
        _factory.Clients["udp://good:1/announce"].Respond = _ => new AnnounceResponse { Interval = TimeSpan.FromMinutes(10), Peers = [IPEndPoint.Parse("1.2.3.4:5")], Complete = 3, Incomplete = 4 };

        var r = await m.AnnounceAsync(Leeching, TestContext.Current.CancellationToken);
        Assert.True(r.Success);
        Assert.Equal("udp://good:1/announce", r.TrackerUrl);
        Assert.Equal([IPEndPoint.Parse("1.2.3.4:5")], r.Peers);

        var bad = m.Status.Single(s => s.Url == "http://bad/announce");
        Assert.Equal(TrackerHealth.Failing, bad.Health);
        Assert.Equal("go away", bad.LastError);
        Assert.Equal(TrackerErrorKind.TrackerFailure, bad.LastErrorKind);
        Assert.Equal(1, bad.ConsecutiveFailures);
        Assert.InRange(bad.RetryAt!.Value - _time.GetUtcNow(), TimeSpan.FromSeconds(22.5), TimeSpan.FromSeconds(37.5));
        var good = m.Status.Single(s => s.Url == "udp://good:1/announce");
        Assert.Equal((3, 4, 1), (good.Seeders!.Value, good.Leechers!.Value, good.Tier));
    }

    [Fact]
    public async Task AnnounceAsync_TrackerInBackoff_SkippedUntilRetryTime()
    {
        using var m = Create([["http://bad/announce"], ["http://good/announce"]]);
        var bad = _factory.Clients["http://bad/announce"];
        bad.Respond = Fail;
        await m.AnnounceAsync(Leeching, TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromSeconds(10));
        await m.AnnounceAsync(Leeching, TestContext.Current.CancellationToken);
        Assert.Single(bad.Requests);

        _time.Advance(TimeSpan.FromSeconds(40));
        await m.AnnounceAsync(Leeching, TestContext.Current.CancellationToken);
        Assert.Equal(2, bad.Requests.Count);
        var s = m.Status.Single(x => x.Url == "http://bad/announce");
        Assert.Equal(2, s.ConsecutiveFailures);
        // Second failure: 60 s ± 25 %.
        Assert.InRange(s.RetryAt!.Value - _time.GetUtcNow(), TimeSpan.FromSeconds(45), TimeSpan.FromSeconds(75));
    }

    [Fact]
    public async Task AnnounceAsync_AllFail_ReportsErrorAndSchedulesRetry()
    {
        using var m = Create([["http://a/announce", "http://b/announce"]]);
        foreach (var c in _factory.Clients.Values) c.Respond = Fail;
        var r = await m.AnnounceAsync(Leeching, TestContext.Current.CancellationToken);
        Assert.False(r.Success);
        Assert.Contains("go away", r.Error);
        Assert.False(m.IsAnnounceDue);
        Assert.Equal(m.Status.Min(s => s.RetryAt), m.NextAnnounceAt);
    }

    [Fact]
    public async Task AnnounceAsync_SecondInTierAnswers_MovesToFront()
    {
        using var m = Create([["http://a/announce", "http://b/announce", "http://c/announce"]]);
        var first = m.Status[0].Url;
        _factory.Clients[first].Respond = Fail;
        var r = await m.AnnounceAsync(Leeching, TestContext.Current.CancellationToken);
        Assert.True(r.Success);
        Assert.NotEqual(first, r.TrackerUrl);
        Assert.Equal(r.TrackerUrl, m.Status[0].Url);
        Assert.Equal(first, m.Status[1].Url);
    }

    [Fact]
    public void Constructor_Tiers_ShuffledWithinTierOnly()
    {
        string[] tier0 = ["http://a/announce", "http://b/announce", "http://c/announce", "http://d/announce"];
        var orders = new HashSet<string>();
        for (var seed = 0; seed < 20; seed++)
        {
            using var m = Create([tier0, ["http://z/announce"]], seed);
            Assert.Equal(tier0.Order(), m.Status.Take(4).Select(s => s.Url).Order());
            Assert.Equal("http://z/announce", m.Status[4].Url);
            orders.Add(string.Join(",", m.Status.Select(s => s.Url)));
        }

        Assert.True(orders.Count > 1);
    }

    [Fact]
    public async Task MarkCompleted_SendsCompletedOnce()
    {
        using var m = Create([["http://a/announce"]]);
        await m.AnnounceAsync(Leeching, TestContext.Current.CancellationToken);
        _time.Advance(TimeSpan.FromMinutes(5));
        m.MarkCompleted();
        Assert.True(m.IsAnnounceDue);
        var r = await m.AnnounceAsync(new AnnounceStats(0, 1000, 0), TestContext.Current.CancellationToken);
        Assert.Equal(AnnounceEvent.Completed, r.Event);
        m.MarkCompleted();
        Assert.False(m.IsAnnounceDue);
        _time.Advance(TimeSpan.FromMinutes(30));
        r = await m.AnnounceAsync(new AnnounceStats(0, 1000, 0), TestContext.Current.CancellationToken);
        Assert.Equal(AnnounceEvent.None, r.Event);
    }

    [Fact]
    public async Task StopAsync_SendsStoppedToStartedTrackersOnly()
    {
        using var m = Create([["http://a/announce"], ["http://b/announce"]]);
        await m.AnnounceAsync(Leeching, TestContext.Current.CancellationToken);
        await m.StopAsync(Leeching, TestContext.Current.CancellationToken);
        Assert.Equal([AnnounceEvent.Started, AnnounceEvent.Stopped], _factory.Clients["http://a/announce"].Requests.Select(q => q.Event));
        Assert.Equal(0, _factory.Clients["http://a/announce"].Requests[1].NumWant);
        Assert.Empty(_factory.Clients["http://b/announce"].Requests);

        // Starting again says "started" again.
        var r = await m.AnnounceAsync(Leeching, TestContext.Current.CancellationToken);
        Assert.Equal(AnnounceEvent.Started, r.Event);
    }

    [Fact]
    public async Task RequestAnnounce_BeforeMinInterval_Deferred()
    {
        using var m = Create([["http://a/announce"]]);
        _factory.Clients["http://a/announce"].Respond = _ => new AnnounceResponse { Interval = TimeSpan.FromMinutes(30), MinInterval = TimeSpan.FromMinutes(5) };
        await m.AnnounceAsync(Leeching, TestContext.Current.CancellationToken);
        var at = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.False(m.RequestAnnounce());
        Assert.Equal(at + TimeSpan.FromMinutes(5), m.NextAnnounceAt);
        _time.Advance(TimeSpan.FromMinutes(4));
        Assert.True(m.IsAnnounceDue);
        Assert.True(m.RequestAnnounce());
    }

    [Fact]
    public async Task AnnounceAsync_TrackerId_EchoedBack()
    {
        using var m = Create([["http://a/announce"]]);
        var c = _factory.Clients["http://a/announce"];
        c.Respond = _ => new AnnounceResponse { Interval = TimeSpan.FromMinutes(1), TrackerId = "T-1" };
        await m.AnnounceAsync(Leeching, TestContext.Current.CancellationToken);
        await m.AnnounceAsync(Leeching, TestContext.Current.CancellationToken);
        Assert.Equal([null, "T-1"], c.Requests.Select(q => q.TrackerId));
        Assert.Equal(PeerId, c.Requests[0].PeerId.ToArray());
        Assert.Equal(Hash, c.Requests[0].InfoHash);
        Assert.Equal(6881, c.Requests[0].Port);
    }

    [Fact]
    public async Task Status_UnsupportedScheme_MarkedAndSkipped()
    {
        using var m = Create([["wss://x/announce", "http://a/announce"]]);
        Assert.Equal(TrackerHealth.Unsupported, m.Status.Single(s => s.Url == "wss://x/announce").Health);
        Assert.True(m.HasUsableTrackers);
        Assert.True((await m.AnnounceAsync(Leeching, TestContext.Current.CancellationToken)).Success);
    }

    [Fact]
    public void IsAnnounceDue_OnlyUnsupportedTrackers_False()
    {
        using var m = Create([["wss://x/announce"], ["ftp://y/announce"]]);
        Assert.False(m.HasUsableTrackers);
        m.MarkCompleted();
        Assert.False(m.IsAnnounceDue);
    }

    [Fact]
    public async Task AnnounceAsync_NoTrackers_Fails()
    {
        using var m = Create([]);
        Assert.False(m.IsAnnounceDue);
        Assert.False((await m.AnnounceAsync(Leeching, TestContext.Current.CancellationToken)).Success);
    }

    [Fact]
    public async Task ScrapeAsync_UpdatesStatus()
    {
        using var m = Create([["http://a/announce"]]);
        await m.ScrapeAsync(TestContext.Current.CancellationToken);
        var s = Assert.Single(m.Status);
        Assert.Equal((4, 6, 9), (s.Seeders!.Value, s.Leechers!.Value, s.Downloaded!.Value));
    }
}
