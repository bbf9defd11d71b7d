using System.Net;
using System.Text;
using TorrentEdge.Engine.InteropTests.Support;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Trackers;

namespace TorrentEdge.Engine.InteropTests.Trackers;

/// <summary>Our HTTP and UDP tracker clients against Debian's opentracker.</summary>
public sealed class OpenTrackerTests : IAsyncLifetime
{
    private static readonly InfoHash Allowed = InfoHash.Parse("0123456789abcdef0123456789abcdef01234567");
    private static readonly InfoHash Allowed2 = InfoHash.Parse("1123456789abcdef0123456789abcdef01234567");
    private static readonly InfoHash Refused = InfoHash.Parse("fedcba9876543210fedcba9876543210fedcba98");
    private readonly HttpClient _http = new();
    private OpenTracker? _tracker;

    private OpenTracker Tracker => _tracker!;

    public async ValueTask InitializeAsync()
    {
        if (!OpenTracker.IsInstalled) return;
        _tracker = await OpenTracker.StartAsync([Allowed, Allowed2], TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        if (_tracker is not null) await _tracker.DisposeAsync();
    }

    private void RequireTracker()
    {
        if (_tracker is null) Assert.Skip("opentracker is not installed (Debian package opentracker).");
    }

    private static AnnounceRequest Peer(InfoHash hash, int n, long left, AnnounceEvent ev = AnnounceEvent.Started) => new()
    {
        InfoHash = hash,
        PeerId = Encoding.ASCII.GetBytes($"-TE0100-{n:D12}"),
        Port = 20000 + n,
        Left = left,
        Event = ev,
        Key = (uint)n,
    };

    private ITrackerClient Client(bool udp) => udp
        ? new UdpTrackerClient(Tracker.UdpAnnounceUrl, new UdpTrackerOptions { RetransmitBase = TimeSpan.FromSeconds(1), MaxRetransmits = 2 })
        : new HttpTrackerClient(Tracker.HttpAnnounceUrl, _http, TimeSpan.FromSeconds(10));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnnounceAsync_TwoPeers_SeeEachOther(bool udp)
    {
        RequireTracker();
        using var a = Client(udp);
        using var b = Client(udp);
        var ct = TestContext.Current.CancellationToken;
        // opentracker lists the announcing peer too, so only the other one is asserted on.
        await a.AnnounceAsync(Peer(Allowed, 1, 0), ct);
        var second = await b.AnnounceAsync(Peer(Allowed, 2, 1000), ct);
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 20001), second.Peers);
        Assert.True(second.Interval > TimeSpan.Zero);
        var again = await a.AnnounceAsync(Peer(Allowed, 1, 0, AnnounceEvent.None), ct);
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 20002), again.Peers);
        Assert.Equal(1, again.Complete);
        Assert.Equal(1, again.Incomplete);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ScrapeAsync_AfterAnnounces_CountsPeers(bool udp)
    {
        RequireTracker();
        using var client = Client(udp);
        var ct = TestContext.Current.CancellationToken;
        await client.AnnounceAsync(Peer(Allowed, 3, 0), ct);
        await client.AnnounceAsync(Peer(Allowed, 4, 500), ct);
        await client.AnnounceAsync(Peer(Allowed, 5, 500), ct);
        var stats = await client.ScrapeAsync([Allowed], ct);
        Assert.Equal(1, stats[Allowed].Complete);
        Assert.Equal(2, stats[Allowed].Incomplete);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AnnounceAsync_NotWhitelisted_Refused(bool udp)
    {
        RequireTracker();
        using var client = Client(udp);
        var e = await Assert.ThrowsAsync<TrackerException>(async () => await client.AnnounceAsync(Peer(Refused, 6, 1), TestContext.Current.CancellationToken));
        Assert.True(e.Kind == TrackerErrorKind.TrackerFailure, e.Message);
        Assert.Contains(udp ? "not served" : "not authorized", e.FailureReason);
    }

    [Fact]
    public async Task TrackerManager_BadTierThenOpenTracker_FailsOverAndStops()
    {
        RequireTracker();
        var ct = TestContext.Current.CancellationToken;
        var factory = new TrackerClientFactory(_http, new UdpTrackerOptions { RetransmitBase = TimeSpan.FromSeconds(1), MaxRetransmits = 1 });
        using var manager = new TrackerManager(
            Allowed,
            Encoding.ASCII.GetBytes("-TE0100-manager00001"),
            20100,
            [[$"http://127.0.0.1:{Tracker.HttpPort}/no-such-path/announce"], [Tracker.UdpAnnounceUrl.ToString(), Tracker.HttpAnnounceUrl.ToString()]],
            factory);
        using var other = Client(udp: false);
        await other.AnnounceAsync(Peer(Allowed, 7, 0), ct);

        var r = await manager.AnnounceAsync(new AnnounceStats(0, 0, 100), ct);
        Assert.True(r.Success, r.Error);
        Assert.Equal(AnnounceEvent.Started, r.Event);
        Assert.Contains(new IPEndPoint(IPAddress.Loopback, 20007), r.Peers);
        Assert.Equal(TrackerHealth.Working, manager.Status.Single(s => s.Url == r.TrackerUrl).Health);

        await manager.StopAsync(new AnnounceStats(0, 0, 100), ct);
        var after = await other.AnnounceAsync(Peer(Allowed, 7, 0, AnnounceEvent.None), ct);
        Assert.DoesNotContain(new IPEndPoint(IPAddress.Loopback, 20100), after.Peers);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task TrackerManager_Completed_CountedByTracker(bool udp)
    {
        RequireTracker();
        var ct = TestContext.Current.CancellationToken;
        var hash = udp ? Allowed2 : Allowed;
        var url = udp ? Tracker.UdpAnnounceUrl : Tracker.HttpAnnounceUrl;
        var factory = new TrackerClientFactory(_http, new UdpTrackerOptions { RetransmitBase = TimeSpan.FromSeconds(1), MaxRetransmits = 2 });
        using var manager = new TrackerManager(hash, Encoding.ASCII.GetBytes("-TE0100-complete0001"), 20200, [[url.ToString()]], factory);

        Assert.True((await manager.AnnounceAsync(new AnnounceStats(0, 0, 100), ct)).Success);
        await manager.ScrapeAsync(ct);
        Assert.Equal((0, 1, 0), (manager.Status[0].Seeders, manager.Status[0].Leechers, manager.Status[0].Downloaded));

        manager.MarkCompleted();
        Assert.True(manager.IsAnnounceDue);
        var r = await manager.AnnounceAsync(new AnnounceStats(0, 100, 0), ct);
        Assert.Equal(AnnounceEvent.Completed, r.Event);
        await manager.ScrapeAsync(ct);
        Assert.Equal((1, 0, 1), (manager.Status[0].Seeders, manager.Status[0].Leechers, manager.Status[0].Downloaded));

        await manager.StopAsync(new AnnounceStats(0, 100, 0), ct);
        await manager.ScrapeAsync(ct);
        Assert.Equal(0, manager.Status[0].Seeders);
    }
}
