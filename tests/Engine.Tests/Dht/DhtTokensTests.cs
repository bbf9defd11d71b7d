using System.Net;
using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Dht;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Tests.Dht;

public sealed class DhtTokensTests
{
    private static readonly IPAddress A = IPAddress.Parse("127.0.0.2");

    [Fact]
    public void Validate_WithinTenMinutes_AcceptsAndAfter_Refuses()
    {
        var time = new FakeTimeProvider();
        var tokens = new DhtTokens(time);
        var token = tokens.Create(A);
        time.Advance(TimeSpan.FromMinutes(6));
        Assert.True(tokens.Validate(token, A));
        time.Advance(TimeSpan.FromMinutes(5));
        Assert.False(tokens.Validate(token, A));
    }

    [Fact]
    public void Validate_FromAnotherAddress_Refuses()
    {
        var tokens = new DhtTokens(new FakeTimeProvider());
        Assert.False(tokens.Validate(tokens.Create(A), IPAddress.Parse("127.0.0.3")));
    }

    [Fact]
    public void PeerStore_PeerExpiresAfterThirtyMinutes()
    {
        var time = new FakeTimeProvider();
        var store = new PeerStore(time);
        var hash = new InfoHash(new byte[20]);
        store.Add(hash, new IPEndPoint(A, 1));
        time.Advance(TimeSpan.FromMinutes(29));
        Assert.Single(store.Get(hash));
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Empty(store.Get(hash));
        store.Purge();
        Assert.Equal(0, store.TorrentCount);
    }

    [Fact]
    public void PeerStore_BeyondCaps_RefusesNewTorrentsAndPeers()
    {
        var store = new PeerStore(new FakeTimeProvider(), maxTorrents: 2, maxPeersPerTorrent: 3);
        var hashes = Enumerable.Range(1, 3).Select(i => { var b = new byte[20]; b[0] = (byte)i; return new InfoHash(b); }).ToArray();
        Assert.True(store.Add(hashes[0], new IPEndPoint(A, 1)));
        Assert.True(store.Add(hashes[1], new IPEndPoint(A, 1)));
        Assert.False(store.Add(hashes[2], new IPEndPoint(A, 1)));
        for (var p = 2; p <= 3; p++) Assert.True(store.Add(hashes[0], new IPEndPoint(A, p)));
        Assert.False(store.Add(hashes[0], new IPEndPoint(A, 4)));
        Assert.Equal(4, store.PeerCount);
    }

    [Fact]
    public void QueryRateLimiter_FloodFromOneAddress_IsCutAtTheBurstAndRefills()
    {
        var time = new FakeTimeProvider();
        var limiter = new QueryRateLimiter(time, perAddressPerSecond: 5, perAddressBurst: 20);
        var allowed = Enumerable.Range(0, 100).Count(_ => limiter.TryAcquire(A));
        Assert.Equal(20, allowed);
        Assert.True(limiter.TryAcquire(IPAddress.Parse("127.0.0.3")));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(5, Enumerable.Range(0, 100).Count(_ => limiter.TryAcquire(A)));
    }

    [Fact]
    public void QueryRateLimiter_ManySourceAddresses_TableStaysBounded()
    {
        var limiter = new QueryRateLimiter(new FakeTimeProvider(), maxAddresses: 100, totalPerSecond: 1_000_000);
        for (var i = 0; i < 10_000; i++) limiter.TryAcquire(new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]));
        Assert.True(limiter.TrackedAddresses <= 100);
    }
}
