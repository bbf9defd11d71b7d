using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Trackers;

namespace TorrentEdge.Engine.Tests.Trackers;

public class UdpTrackerClientTests
{
    private static readonly InfoHash Hash = InfoHash.Parse("c12fe1c06bba254a9dc9f519b335aa7c1367a88a");
    private static readonly byte[] PeerId = Encoding.ASCII.GetBytes("-TE0100-abcdefghijkl");

    private static AnnounceRequest Request(AnnounceEvent ev = AnnounceEvent.Started) => new()
    {
        InfoHash = Hash,
        PeerId = PeerId,
        Port = 51413,
        Uploaded = 11,
        Downloaded = 22,
        Left = 33,
        Event = ev,
        Key = 0xcafebabe,
        NumWant = 25,
    };

    // Long enough that a loaded CI machine does not retransmit where a test counts datagrams.
    private static UdpTrackerOptions Fast(TimeProvider? time = null) => new()
    {
        RetransmitBase = TimeSpan.FromSeconds(1),
        MaxRetransmits = 2,
        TimeProvider = time ?? TimeProvider.System,
    };

    [Fact]
    public async Task AnnounceAsync_Tracker_SendsFieldsAndParsesAnswer()
    {
        await using var tracker = new FakeUdpTracker { Peers = [10, 0, 0, 1, 0x1a, 0xe1, 10, 0, 0, 2, 0, 80], Interval = 120 };
        using var client = new UdpTrackerClient(tracker.AnnounceUri, Fast());
        var r = await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken);

        Assert.Equal(TimeSpan.FromSeconds(120), r.Interval);
        Assert.Equal(2, r.Complete);
        Assert.Equal(3, r.Incomplete);
        Assert.Equal([IPEndPoint.Parse("10.0.0.1:6881"), IPEndPoint.Parse("10.0.0.2:80")], r.Peers);
        var a = Assert.Single(tracker.Announces);
        Assert.Equal(Hash.ToArray(), a.InfoHash);
        Assert.Equal(PeerId, a.PeerId);
        Assert.Equal((22L, 33L, 11L, 2, 0xcafebabeu, 25, 51413), (a.Downloaded, a.Left, a.Uploaded, a.Event, a.Key, a.NumWant, a.Port));
    }

    [Fact]
    public async Task AnnounceAsync_WithinLifetime_ReusesConnectionIdThenReconnects()
    {
        var time = new FakeTimeProvider();
        await using var tracker = new FakeUdpTracker();
        using var client = new UdpTrackerClient(tracker.AnnounceUri, Fast(time));
        await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken);
        time.Advance(TimeSpan.FromSeconds(59));
        await client.AnnounceAsync(Request(AnnounceEvent.None), TestContext.Current.CancellationToken);
        Assert.Equal(1, tracker.Connects);
        Assert.Equal(tracker.Announces[0].ConnectionId, tracker.Announces[1].ConnectionId);

        time.Advance(TimeSpan.FromSeconds(2));
        await client.AnnounceAsync(Request(AnnounceEvent.None), TestContext.Current.CancellationToken);
        Assert.Equal(2, tracker.Connects);
        Assert.NotEqual(tracker.Announces[0].ConnectionId, tracker.Announces[2].ConnectionId);
    }

    [Fact]
    public async Task AnnounceAsync_LostDatagrams_Retransmits()
    {
        await using var tracker = new FakeUdpTracker { DropCount = 2 };
        using var client = new UdpTrackerClient(tracker.AnnounceUri, new UdpTrackerOptions { RetransmitBase = TimeSpan.FromMilliseconds(200), MaxRetransmits = 3 });
        await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken);
        Assert.True(tracker.Received >= 4); // connect x3 (two dropped), then the announce
        Assert.Single(tracker.Announces);
    }

    [Fact]
    public async Task AnnounceAsync_NoAnswer_TimesOutAfterBackoffSchedule()
    {
        await using var tracker = new FakeUdpTracker { DropCount = int.MaxValue };
        using var client = new UdpTrackerClient(tracker.AnnounceUri, new UdpTrackerOptions { RetransmitBase = TimeSpan.FromMilliseconds(40), MaxRetransmits = 2 });
        var started = TimeProvider.System.GetTimestamp();
        var e = await Assert.ThrowsAsync<TrackerException>(async () => await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken));
        Assert.Equal(TrackerErrorKind.Timeout, e.Kind);
        Assert.Equal(3, tracker.Received);
        Assert.True(TimeProvider.System.GetElapsedTime(started) >= TimeSpan.FromMilliseconds(40 + 80 + 160 - 20));
    }

    [Fact]
    public async Task AnnounceAsync_ErrorAction_ThrowsTrackerFailure()
    {
        await using var tracker = new FakeUdpTracker { AnnounceError = "info hash not found" };
        using var client = new UdpTrackerClient(tracker.AnnounceUri, Fast());
        var e = await Assert.ThrowsAsync<TrackerException>(async () => await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken));
        Assert.Equal(TrackerErrorKind.TrackerFailure, e.Kind);
        Assert.Equal("info hash not found", e.FailureReason);
    }

    [Fact]
    public async Task AnnounceAsync_BareHeaderAnswer_ThrowsTrackerFailure()
    {
        await using var tracker = new FakeUdpTracker { BareAnnounceReply = true };
        using var client = new UdpTrackerClient(tracker.AnnounceUri, Fast());
        var e = await Assert.ThrowsAsync<TrackerException>(async () => await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken));
        Assert.Equal(TrackerErrorKind.TrackerFailure, e.Kind);
    }

    [Fact]
    public async Task AnnounceAsync_WrongTransactionId_Ignored()
    {
        await using var tracker = new FakeUdpTracker { SendWrongTransactionFirst = true, Interval = 77 };
        using var client = new UdpTrackerClient(tracker.AnnounceUri, new UdpTrackerOptions { RetransmitBase = TimeSpan.FromSeconds(2), MaxRetransmits = 1 });
        var r = await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken);
        Assert.Equal(TimeSpan.FromSeconds(77), r.Interval);
    }

    [Fact]
    public async Task AnnounceAsync_ClosedPort_ThrowsNetwork()
    {
        int port;
        using (var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp))
        {
            s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)s.LocalEndPoint!).Port;
        }

        using var client = new UdpTrackerClient(new Uri($"udp://127.0.0.1:{port}/announce"), new UdpTrackerOptions { RetransmitBase = TimeSpan.FromSeconds(5), MaxRetransmits = 1 });
        var e = await Assert.ThrowsAsync<TrackerException>(async () => await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken));
        Assert.Equal(TrackerErrorKind.Network, e.Kind);
    }

    [Fact]
    public async Task ScrapeAsync_Hashes_ReturnsStatsInOrder()
    {
        await using var tracker = new FakeUdpTracker();
        using var client = new UdpTrackerClient(tracker.AnnounceUri, Fast());
        var other = InfoHash.Parse("0000000000000000000000000000000000000001");
        var r = await client.ScrapeAsync([Hash, other], TestContext.Current.CancellationToken);
        Assert.Equal(new ScrapeStats(10, 20, 30), r[Hash]);
        Assert.Equal(new ScrapeStats(11, 21, 31), r[other]);
    }

    [Fact]
    public void Constructor_NoPort_Throws() => Assert.Throws<ArgumentException>(() => new UdpTrackerClient(new Uri("udp://tracker.example/announce")));
}
