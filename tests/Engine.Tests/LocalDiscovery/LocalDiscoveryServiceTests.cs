using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.LocalDiscovery;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Tests.LocalDiscovery;

/// <summary>The BEP 14 service on a fake group and a fake clock: when it announces, what it takes, what it ignores.</summary>
public sealed class LocalDiscoveryServiceTests
{
    private static readonly IPAddress Us = IPAddress.Parse("10.9.0.1");
    private static readonly IPAddress Them = IPAddress.Parse("10.9.0.2");
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private readonly FakeLsdBus _bus = new();
    private readonly HashSet<InfoHash> _running = [];
    private readonly List<(InfoHash Hash, IPEndPoint Peer)> _found = [];
    private int _port = 6881;

    private static InfoHash Hash(int i) => InfoHash.Parse(i.ToString("x40"));

    private LocalDiscoveryService Service(Func<IPAddress, bool>? allowed = null, LocalDiscoveryOptions? options = null) =>
        new(_bus.Join(Us), (options ?? new LocalDiscoveryOptions()) with { TimeProvider = _time }, () => _port,
            () => _running.ToList(), (h, p) => _found.Add((h, p)), allowed);

    private static byte[] From(int port, string? cookie, params InfoHash[] hashes) => LsdCodec.Encode(port, hashes, cookie);

    [Fact]
    public async Task Tick_TorrentStarts_AnnouncedAtOnceThenEveryFiveMinutes()
    {
        await using var lsd = Service();
        _running.Add(Hash(1));
        Assert.Equal([Hash(1)], await lsd.TickAsync(TestContext.Current.CancellationToken));
        Assert.True(LsdCodec.TryDecode(_bus.Sent.Single().Datagram, out var sent));
        Assert.Equal(6881, sent!.Port);
        Assert.Equal(lsd.Cookie, sent.Cookie);

        _time.Advance(TimeSpan.FromMinutes(4.9));
        Assert.Empty(await lsd.TickAsync(TestContext.Current.CancellationToken));
        _time.Advance(TimeSpan.FromMinutes(0.1));
        Assert.Equal([Hash(1)], await lsd.TickAsync(TestContext.Current.CancellationToken));
        Assert.Equal(2, _bus.Sent.Count);
    }

    [Fact]
    public async Task Tick_ManyTorrents_OneDatagramPerTickOfAtMostTwenty()
    {
        await using var lsd = Service();
        for (var i = 0; i < 45; i++) _running.Add(Hash(i));
        Assert.Equal(20, (await lsd.TickAsync(TestContext.Current.CancellationToken)).Count);
        Assert.Equal(20, (await lsd.TickAsync(TestContext.Current.CancellationToken)).Count);
        Assert.Equal(5, (await lsd.TickAsync(TestContext.Current.CancellationToken)).Count);
        Assert.Empty(await lsd.TickAsync(TestContext.Current.CancellationToken));
        Assert.Equal(3, _bus.Sent.Count);
        Assert.All(_bus.Sent, s => Assert.True(s.Datagram.Length <= LsdCodec.MaxDatagramBytes));
    }

    [Fact]
    public async Task Tick_PausedAndResumedInALoop_AnnouncesNoMoreThanOnceAMinute()
    {
        await using var lsd = Service();
        _running.Add(Hash(1));
        Assert.Single(await lsd.TickAsync(TestContext.Current.CancellationToken));
        for (var i = 0; i < 10; i++)
        {
            _running.Clear();
            await lsd.TickAsync(TestContext.Current.CancellationToken);
            _time.Advance(TimeSpan.FromSeconds(2));
            _running.Add(Hash(1));
            await lsd.TickAsync(TestContext.Current.CancellationToken);
            _time.Advance(TimeSpan.FromSeconds(2));
        }
        Assert.Single(_bus.Sent); // 40 s of pausing and resuming: still the first announce only
        _time.Advance(TimeSpan.FromSeconds(21));
        _running.Clear();
        await lsd.TickAsync(TestContext.Current.CancellationToken);
        _running.Add(Hash(1));
        Assert.Single(await lsd.TickAsync(TestContext.Current.CancellationToken)); // a minute after the last one, the restart is announced
    }

    [Fact]
    public async Task Tick_NoPortYet_SendsNothing()
    {
        await using var lsd = Service();
        _port = 0;
        _running.Add(Hash(1));
        Assert.Empty(await lsd.TickAsync(TestContext.Current.CancellationToken));
        _port = 7000;
        Assert.Single(await lsd.TickAsync(TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Handle_AnotherPeersAnnounce_HandsEachTorrentItsAddressAndPort()
    {
        await using var lsd = Service();
        Assert.True(lsd.Handle(From(51413, "beef", Hash(1), Hash(2)), new IPEndPoint(Them, 6771)));
        Assert.Equal([(Hash(1), new IPEndPoint(Them, 51413)), (Hash(2), new IPEndPoint(Them, 51413))], _found);
    }

    [Fact]
    public async Task Handle_OurOwnAnnounceBack_IsIgnored()
    {
        await using var lsd = Service();
        _running.Add(Hash(1));
        await lsd.TickAsync(TestContext.Current.CancellationToken);
        Assert.False(lsd.Handle(_bus.Sent.Single().Datagram, new IPEndPoint(Us, 6771)));
        Assert.Empty(_found);
        Assert.Equal(1, lsd.Counters.Own);
    }

    [Fact]
    public async Task Handle_MalformedOrRefusedAddress_TakesNothing()
    {
        await using var lsd = Service(allowed: a => !a.Equals(IPAddress.Parse("10.9.0.66")));
        Assert.False(lsd.Handle(Encoding.ASCII.GetBytes("M-SEARCH * HTTP/1.1\r\n\r\n"), new IPEndPoint(Them, 6771)));
        Assert.False(lsd.Handle(From(6881, null, Hash(1)), new IPEndPoint(IPAddress.Parse("10.9.0.66"), 6771)));
        Assert.Empty(_found);
        Assert.Equal(1, lsd.Counters.Malformed);
    }

    [Fact]
    public async Task Handle_FloodFromOneAddress_TakesTheBurstThenOneASecond()
    {
        await using var lsd = Service();
        var taken = Enumerable.Range(0, 1000).Count(i => lsd.Handle(From(6881, "f", Hash(i)), new IPEndPoint(Them, 6771)));
        Assert.Equal(20, taken);
        _time.Advance(TimeSpan.FromSeconds(3));
        taken = Enumerable.Range(0, 100).Count(i => lsd.Handle(From(6881, "f", Hash(i)), new IPEndPoint(Them, 6771)));
        Assert.Equal(3, taken);
        // Another address is not held back by the flood.
        Assert.True(lsd.Handle(From(6881, "g", Hash(7)), new IPEndPoint(IPAddress.Parse("10.9.0.3"), 6771)));
    }

    [Fact]
    public async Task Handle_ManySourceAddresses_TrackedAddressesStayBounded()
    {
        await using var lsd = Service(options: new LocalDiscoveryOptions { MaxTrackedSources = 4, SourceBurst = 1, SourceRefillInterval = TimeSpan.FromMinutes(1) });
        var taken = Enumerable.Range(1, 10).Count(i => lsd.Handle(From(6881, null, Hash(1)), new IPEndPoint(IPAddress.Parse($"10.9.1.{i}"), 6771)));
        Assert.Equal(4, taken); // the table is full of spent buckets: new addresses wait
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(lsd.Handle(From(6881, null, Hash(1)), new IPEndPoint(IPAddress.Parse("10.9.1.99"), 6771)));
    }

    [Fact]
    public async Task Start_TwoServicesOnOneGroup_FindEachOther()
    {
        var ct = TestContext.Current.CancellationToken;
        var foundByB = new List<(InfoHash, IPEndPoint)>();
        await using var a = Service();
        await using var b = new LocalDiscoveryService(_bus.Join(Them), new LocalDiscoveryOptions { TimeProvider = _time }, () => 7000,
            () => [Hash(1)], (h, p) => { lock (foundByB) foundByB.Add((h, p)); });
        _running.Add(Hash(1));
        a.Start();
        b.Start();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            lock (_found) lock (foundByB) if (_found.Count > 0 && foundByB.Count > 0) break;
            await Task.Delay(20, ct);
        }
        lock (_found) Assert.Contains((Hash(1), new IPEndPoint(Them, 7000)), _found);
        lock (foundByB) Assert.Contains((Hash(1), new IPEndPoint(Us, 6881)), foundByB);
        Assert.Equal(0, a.Counters.Peers - _found.Count); // nothing of its own taken
    }
}
