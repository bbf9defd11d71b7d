using System.Net;
using System.Text;
using TorrentEdge.Engine.Bencoding;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Trackers;

namespace TorrentEdge.Engine.Tests.Trackers;

public class HttpTrackerClientTests
{
    private static readonly InfoHash Hash = new([0x00, 0x41, 0x7e, 0xff, 0x20, 0x2e, 0x2d, 0x5f, 0x25, 0x2b, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    private static readonly byte[] PeerId = Encoding.ASCII.GetBytes("-TE0100-abcdefghij/=");

    private sealed class FakeHandler(Func<HttpRequestMessage, CancellationToken, Task<HttpResponseMessage>> respond) : HttpMessageHandler
    {
        public List<Uri> Requests { get; } = [];

        public List<bool?> ConnectionClose { get; } = [];

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Requests.Add(request.RequestUri!);
            ConnectionClose.Add(request.Headers.ConnectionClose);
            return respond(request, cancellationToken);
        }
    }

    private static (HttpTrackerClient Client, FakeHandler Handler) Create(string url, byte[] body, HttpStatusCode status = HttpStatusCode.OK, TimeSpan? timeout = null)
    {
        var handler = new FakeHandler((_, _) => Task.FromResult(new HttpResponseMessage(status) { Content = new ByteArrayContent(body) }));
        return (new HttpTrackerClient(new Uri(url), new HttpClient(handler), timeout), handler);
    }

    private static AnnounceRequest Request(AnnounceEvent ev = AnnounceEvent.Started, string? trackerId = null) => new()
    {
        InfoHash = Hash,
        PeerId = PeerId,
        Port = 6881,
        Uploaded = 1,
        Downloaded = 2,
        Left = 3,
        Event = ev,
        Key = 0xdeadbeef,
        TrackerId = trackerId,
    };

    [Fact]
    public async Task AnnounceAsync_Request_EscapesRawBytesAndSendsParameters()
    {
        var (client, handler) = Create("http://t.example/announce?passkey=abc", new BDictionary { { "interval", new BInteger(900) } }.Encode());
        await client.AnnounceAsync(Request(trackerId: "tid 1"), TestContext.Current.CancellationToken);
        var q = Assert.Single(handler.Requests).OriginalString;
        Assert.StartsWith("http://t.example/announce?passkey=abc&info_hash=%00A~%FF%20.-_%25%2B%01%02%03%04%05%06%07%08%09%0A&", q);
        Assert.Contains("&peer_id=-TE0100-abcdefghij%2F%3D&", q);
        Assert.Contains("&port=6881&uploaded=1&downloaded=2&left=3&compact=1&numwant=50&key=deadbeef&event=started&trackerid=tid%201", q);
    }

    [Fact]
    public async Task AnnounceAsync_ConnectionResetOnce_TriedAgainAndAnswered()
    {
        var calls = 0;
        var handler = new FakeHandler((_, _) => ++calls == 1
            ? throw new HttpRequestException("reset", new IOException("reset", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset)))
            : Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = new ByteArrayContent(new BDictionary { { "interval", new BInteger(900) } }.Encode()) }));
        var client = new HttpTrackerClient(new Uri("http://t.example/announce"), new HttpClient(handler));

        var response = await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken);

        Assert.Equal(TimeSpan.FromSeconds(900), response.Interval);
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task AnnounceAsync_ConnectionResetTwice_NetworkErrorAfterTheSecondTry()
    {
        var handler = new FakeHandler((_, _) =>
            throw new HttpRequestException("reset", new IOException("reset", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionReset))));
        var client = new HttpTrackerClient(new Uri("http://t.example/announce"), new HttpClient(handler));

        var e = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(Request(), TestContext.Current.CancellationToken).AsTask());

        Assert.Equal(TrackerErrorKind.Network, e.Kind);
        Assert.Equal(2, handler.Requests.Count);
    }

    [Fact]
    public async Task AnnounceAsync_ConnectionRefused_NotTriedAgain()
    {
        var handler = new FakeHandler((_, _) =>
            throw new HttpRequestException("refused", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused)));
        var client = new HttpTrackerClient(new Uri("http://t.example/announce"), new HttpClient(handler));

        var e = await Assert.ThrowsAsync<TrackerException>(() => client.AnnounceAsync(Request(), TestContext.Current.CancellationToken).AsTask());

        Assert.Equal(TrackerErrorKind.Network, e.Kind);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task AnnounceAndScrape_AskTheTrackerToCloseTheConnection()
    {
        var (client, handler) = Create("http://t.example/announce", new BDictionary { { "interval", new BInteger(900) }, { "files", new BDictionary() } }.Encode());
        await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken);
        await client.ScrapeAsync([Hash], TestContext.Current.CancellationToken);
        Assert.Equal([true, true], handler.ConnectionClose);
    }

    [Fact]
    public async Task AnnounceAsync_NoEvent_OmitsEvent()
    {
        var (client, handler) = Create("http://t.example/announce", new BDictionary { { "interval", new BInteger(900) } }.Encode());
        await client.AnnounceAsync(Request(AnnounceEvent.None), TestContext.Current.CancellationToken);
        Assert.DoesNotContain("event=", handler.Requests[0].OriginalString);
    }

    [Fact]
    public async Task AnnounceAsync_CompactResponse_ParsesEverything()
    {
        byte[] peers = [10, 0, 0, 1, 0x1a, 0xe1, 192, 168, 1, 2, 0, 80, 1, 2, 3, 4, 0, 0];
        byte[] peers6 = [.. IPAddress.Parse("2001:db8::1").GetAddressBytes(), 0xc8, 0xd5];
        var body = new BDictionary
        {
            { "interval", new BInteger(1800) },
            { "min interval", new BInteger(60) },
            { "tracker id", new BString("xyz") },
            { "complete", new BInteger(5) },
            { "incomplete", new BInteger(7) },
            { "warning message", new BString("be nice") },
            { "peers", new BString(peers) },
            { "peers6", new BString(peers6) },
        }.Encode();
        var (client, _) = Create("http://t.example/announce", body);
        var r = await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken);
        Assert.Equal(TimeSpan.FromMinutes(30), r.Interval);
        Assert.Equal(TimeSpan.FromMinutes(1), r.MinInterval);
        Assert.Equal("xyz", r.TrackerId);
        Assert.Equal(5, r.Complete);
        Assert.Equal(7, r.Incomplete);
        Assert.Equal("be nice", r.WarningMessage);
        Assert.Equal(
            [IPEndPoint.Parse("10.0.0.1:6881"), IPEndPoint.Parse("192.168.1.2:80"), IPEndPoint.Parse("[2001:db8::1]:51413")],
            r.Peers);
    }

    [Fact]
    public async Task AnnounceAsync_DictionaryPeers_Parsed()
    {
        var body = new BDictionary
        {
            { "interval", new BInteger(60) },
            {
                "peers", new BList
                {
                    new BDictionary { { "ip", new BString("1.2.3.4") }, { "port", new BInteger(5000) }, { "peer id", new BString(new byte[20]) } },
                    new BDictionary { { "ip", new BString("::1") }, { "port", new BInteger(6000) } },
                    new BDictionary { { "ip", new BString("not-an-ip") }, { "port", new BInteger(1) } },
                    new BDictionary { { "ip", new BString("1.2.3.4") }, { "port", new BInteger(70000) } },
                }
            },
        }.Encode();
        var (client, _) = Create("http://t.example/announce", body);
        var r = await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken);
        Assert.Equal([IPEndPoint.Parse("1.2.3.4:5000"), IPEndPoint.Parse("[::1]:6000")], r.Peers);
    }

    [Fact]
    public async Task AnnounceAsync_FailureReason_ThrowsTrackerFailure()
    {
        var (client, _) = Create("http://t.example/announce", new BDictionary { { "failure reason", new BString("torrent not registered") } }.Encode());
        var e = await Assert.ThrowsAsync<TrackerException>(async () => await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken));
        Assert.Equal(TrackerErrorKind.TrackerFailure, e.Kind);
        Assert.Equal("torrent not registered", e.FailureReason);
    }

    [Fact]
    public async Task AnnounceAsync_ErrorStatusWithFailureReason_ThrowsTrackerFailure()
    {
        var (client, _) = Create("http://t.example/announce", new BDictionary { { "failure reason", new BString("banned") } }.Encode(), HttpStatusCode.Forbidden);
        var e = await Assert.ThrowsAsync<TrackerException>(async () => await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken));
        Assert.Equal(TrackerErrorKind.TrackerFailure, e.Kind);
    }

    [Fact]
    public async Task AnnounceAsync_ErrorStatus_ThrowsNetwork()
    {
        var (client, _) = Create("http://t.example/announce", "<html>oops</html>"u8.ToArray(), HttpStatusCode.BadGateway);
        var e = await Assert.ThrowsAsync<TrackerException>(async () => await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken));
        Assert.Equal(TrackerErrorKind.Network, e.Kind);
        Assert.Contains("502", e.Message);
    }

    [Fact]
    public async Task AnnounceAsync_Garbage_ThrowsInvalidResponse()
    {
        var (client, _) = Create("http://t.example/announce", "<html>"u8.ToArray());
        var e = await Assert.ThrowsAsync<TrackerException>(async () => await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken));
        Assert.Equal(TrackerErrorKind.InvalidResponse, e.Kind);
    }

    [Fact]
    public async Task AnnounceAsync_NoAnswer_ThrowsTimeout()
    {
        var handler = new FakeHandler(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return new HttpResponseMessage();
        });
        var client = new HttpTrackerClient(new Uri("http://t.example/announce"), new HttpClient(handler), TimeSpan.FromMilliseconds(100));
        var e = await Assert.ThrowsAsync<TrackerException>(async () => await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken));
        Assert.Equal(TrackerErrorKind.Timeout, e.Kind);
    }

    [Fact]
    public async Task AnnounceAsync_ConnectionFails_ThrowsNetwork()
    {
        var handler = new FakeHandler((_, _) => throw new HttpRequestException("refused"));
        var client = new HttpTrackerClient(new Uri("http://t.example/announce"), new HttpClient(handler));
        var e = await Assert.ThrowsAsync<TrackerException>(async () => await client.AnnounceAsync(Request(), TestContext.Current.CancellationToken));
        Assert.Equal(TrackerErrorKind.Network, e.Kind);
    }

    [Theory]
    [InlineData("http://t/announce", "http://t/scrape")]
    [InlineData("http://t/x/announce.php?passkey=1", "http://t/x/scrape.php?passkey=1")]
    [InlineData("http://t/a", null)]
    [InlineData("http://t/announce/x", null)]
    public void GetScrapeUri_Announce_FollowsConvention(string announce, string? scrape)
        => Assert.Equal(scrape, HttpTrackerClient.GetScrapeUri(new Uri(announce))?.ToString());

    [Fact]
    public async Task ScrapeAsync_Files_ReturnsStats()
    {
        var body = new BDictionary
        {
            {
                "files", new BDictionary
                {
                    { "x", new BDictionary() },
                }
            },
        };
        ((BDictionary)body["files"]).Set(new BString(Hash.ToArray()), new BDictionary { { "complete", new BInteger(3) }, { "downloaded", new BInteger(10) }, { "incomplete", new BInteger(4) } });
        var (client, handler) = Create("http://t.example/announce", body.Encode());
        var r = await client.ScrapeAsync([Hash], TestContext.Current.CancellationToken);
        Assert.Equal(new ScrapeStats(3, 10, 4), r[Hash]);
        Assert.Single(r);
        Assert.StartsWith("http://t.example/scrape?info_hash=%00A~", handler.Requests[0].OriginalString);
    }

    [Fact]
    public async Task ScrapeAsync_NoScrapeUrl_ThrowsNotSupported()
    {
        var (client, _) = Create("http://t.example/tracker", []);
        Assert.False(client.CanScrape);
        var e = await Assert.ThrowsAsync<TrackerException>(async () => await client.ScrapeAsync([Hash], TestContext.Current.CancellationToken));
        Assert.Equal(TrackerErrorKind.NotSupported, e.Kind);
    }
}
