using System.Net;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.LocalDiscovery;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.LocalDiscovery;

/// <summary>Local discovery in the engine: two engines in memory on one fake multicast group, public and private torrents.</summary>
public sealed class LocalDiscoveryEngineTests() : TempFolderTest("te-lsd-")
{
    private Task<(TorrentMetainfo Meta, byte[] Data)> TorrentAsync(bool isPrivate, CancellationToken ct) =>
        EngineTestKit.SingleFileAsync(Path.Combine(Root, "make", isPrivate ? "private.bin" : "public.bin"), 150_001, isPrivate ? 3 : 5, ct, isPrivate: isPrivate);

    private static ClientEngine Engine(InMemoryNetwork network, InMemoryPieceStoreFactory stores, FakeLsdBus bus, string listen, bool lsd = true) =>
        EngineTestKit.InMemory(network, stores, listen, o => o with
        {
            LocalDiscovery = lsd ? new LocalDiscoveryOptions { TickInterval = TimeSpan.FromMilliseconds(50) } : null,
            LocalDiscoveryTransport = (_, _) => bus.Join(IPEndPoint.Parse(listen).Address),
        });

    [Fact]
    public async Task LocalDiscovery_LeecherAndSeederToldOfNoOne_FindEachOtherAndComplete()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, data) = await TorrentAsync(isPrivate: false, ct);
        var network = new InMemoryNetwork();
        var stores = new InMemoryPieceStoreFactory();
        stores.Get(meta, "/seed").Preload(data);
        var bus = new FakeLsdBus();
        await using var seeder = Engine(network, stores, bus, "10.202.0.1:6881");
        await using var leecher = Engine(network, stores, bus, "10.202.0.2:6881");
        await seeder.StartAsync(ct);
        await leecher.StartAsync(ct);
        var leech = await leecher.AddAsync(meta, new AddTorrentOptions { SavePath = "/leech" }, ct);
        var seed = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = "/seed" }, ct);

        try
        {
            await EngineTestKit.WaitForAsync(leech, s => s.State == TorrentState.Seeding, ct);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}\nseeder: {seed.Status}\nseeder peers: {string.Join("; ", seed.PeerInfos.Select(p => p.ToString()))}\nleecher peers: {string.Join("; ", leech.PeerInfos.Select(p => p.ToString()))}", e);
        }
        Assert.Equal(data, stores.Get(meta, "/leech").Contents.ToArray());
        // No tracker, no peer given: the seeder's announce (made when its torrent started) is how they met.
        Assert.True(leecher.LocalDiscovery!.Counters.Peers >= 1);
        // Its own announces come back and are ignored. Waited for, not read at once: the download can finish (30 ms in
        // one CI run) before the leecher's own first announce has come back on the bus.
        await EngineTestKit.WaitForAsync(leech, _ => leecher.LocalDiscovery!.Counters.Own > 0, ct);
    }

    [Fact]
    public async Task LocalDiscovery_PrivateTorrent_NeverAnnouncedNorTaken()
    {
        var ct = TestContext.Current.CancellationToken;
        var (priv, data) = await TorrentAsync(isPrivate: true, ct);
        var (pub, _) = await TorrentAsync(isPrivate: false, ct);
        var network = new InMemoryNetwork();
        var stores = new InMemoryPieceStoreFactory();
        stores.Get(priv, "/seed").Preload(data);
        var bus = new FakeLsdBus();
        await using var engine = Engine(network, stores, bus, "10.203.0.1:6881");
        await engine.StartAsync(ct);
        var tPriv = await engine.AddAsync(priv, new AddTorrentOptions { SavePath = "/seed" }, ct);
        await engine.AddAsync(pub, new AddTorrentOptions { SavePath = "/pub" }, ct);
        await EngineTestKit.WaitForAsync(tPriv, s => s.State == TorrentState.Seeding, ct);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!Announced(pub.InfoHash) && DateTime.UtcNow < deadline) await Task.Delay(20, ct);
        await Task.Delay(300, ct);
        Assert.True(Announced(pub.InfoHash));
        Assert.False(Announced(priv.InfoHash));

        // Someone on the network announces the private torrent: its peer is not taken.
        bus.Inject(new IPEndPoint(IPAddress.Parse("10.203.0.9"), 6771), LsdCodec.Encode(6881, [priv.InfoHash], "x"));
        await Task.Delay(300, ct);
        Assert.DoesNotContain(tPriv.PeerInfos, p => p.Source == PeerSource.LocalDiscovery);
        Assert.Equal(0, tPriv.Status.Peers);

        bool Announced(InfoHash hash)
        {
            lock (bus.Sent) return bus.Sent.Any(s => LsdCodec.TryDecode(s.Datagram, out var a) && a!.InfoHashes.Contains(hash));
        }
    }

    [Fact]
    public async Task LocalDiscovery_NotConfigured_IsOff()
    {
        await using var engine = new ClientEngine(new EngineOptions { ListenEndPoint = null });
        await engine.StartAsync(TestContext.Current.CancellationToken);
        Assert.Null(engine.LocalDiscovery);
        Assert.Null(engine.LocalDiscoveryProblem);
    }
}
