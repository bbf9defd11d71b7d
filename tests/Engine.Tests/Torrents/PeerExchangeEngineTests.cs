using System.Net;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>PEX (BEP 11) in the torrent loop: engines in memory that learn of each other through it, private torrents that never use it, hostile PEX.</summary>
public sealed class PeerExchangeEngineTests() : TempFolderTest("te-pex-")
{
    private Task<(TorrentMetainfo Meta, byte[] Data)> TorrentAsync(bool isPrivate, CancellationToken ct) =>
        EngineTestKit.SingleFileAsync(Path.Combine(Root, "make", isPrivate ? "private.bin" : "public.bin"), 200_003, isPrivate ? 7 : 11, ct, isPrivate: isPrivate);

    private static ClientEngine Engine(InMemoryNetwork network, InMemoryPieceStoreFactory stores, string listen, bool seedsDial = true) =>
        EngineTestKit.InMemory(network, stores, listen, o => o with { SeedsDialPeers = seedsDial });

    /// <summary>
    /// A and B seed and B knows A; C is told only of B (A never dials anyone). Returns C's torrent and A's address, once C is connected to B.
    /// </summary>
    private static async Task<(TorrentManager C, IPEndPoint A, ClientEngine[] Engines)> ThreeEnginesAsync(TorrentMetainfo meta, byte[] data, CancellationToken ct)
    {
        var network = new InMemoryNetwork();
        var stores = new InMemoryPieceStoreFactory();
        stores.Get(meta, "/a").Preload(data);
        stores.Get(meta, "/b").Preload(data);
        // A does not dial: B passes C to A as well, and A's dial would race C's, leaving C with an incoming A.
        var a = Engine(network, stores, "10.201.0.1:6881", seedsDial: false);
        var b = Engine(network, stores, "10.201.0.2:6881");
        var c = Engine(network, stores, "10.201.0.3:6881");
        foreach (var e in new[] { a, b, c }) await e.StartAsync(ct);
        var ta = await a.AddAsync(meta, new AddTorrentOptions { SavePath = "/a" }, ct);
        await EngineTestKit.WaitForAsync(ta, s => s.State == TorrentState.Seeding, ct);
        var tb = await b.AddAsync(meta, new AddTorrentOptions { SavePath = "/b", Peers = [a.ListenEndPoint!] }, ct);
        await EngineTestKit.WaitForAsync(tb, s => s.State == TorrentState.Seeding && s.Peers == 1, ct);
        var tc = await c.AddAsync(meta, new AddTorrentOptions { SavePath = "/c", Peers = [b.ListenEndPoint!] }, ct);
        await EngineTestKit.WaitForAsync(tc, s => s.Peers >= 1, ct);
        return (tc, a.ListenEndPoint!, [a, b, c]);
    }

    [Fact]
    public async Task Pex_CToldOnlyOfB_LearnsOfAThroughBsPexAndConnects()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, data) = await TorrentAsync(isPrivate: false, ct);
        var (c, a, engines) = await ThreeEnginesAsync(meta, data, ct);
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (!c.PeerInfos.Any(p => a.Equals(p.EndPoint)) && DateTime.UtcNow < deadline) await Task.Delay(50, ct);

            var fromA = Assert.Single(c.PeerInfos, p => a.Equals(p.EndPoint));
            Assert.Equal(PeerSource.Pex, fromA.Source);
            Assert.Equal(2, c.Status.Peers);
        }
        finally
        {
            foreach (var e in engines) await e.DisposeAsync();
        }
    }

    [Fact]
    public async Task Pex_PrivateTorrent_CNeverHearsOfA()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, data) = await TorrentAsync(isPrivate: true, ct);
        Assert.True(meta.IsPrivate);
        var (c, a, engines) = await ThreeEnginesAsync(meta, data, ct);
        try
        {
            // The public case finds A within a tick or two; five ticks give a wrong PEX every chance.
            await Task.Delay(5000, ct);

            Assert.DoesNotContain(c.PeerInfos, p => a.Equals(p.EndPoint));
            Assert.Equal(1, c.Status.PeersKnown);
        }
        finally
        {
            foreach (var e in engines) await e.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ExtensionHandshake_PrivateTorrent_AdvertisesNoUtPex(bool isPrivate)
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, _) = await TorrentAsync(isPrivate, ct);
        await using var engine = EngineTestKit.NewEngine();
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "dl") }, ct);
        await EngineTestKit.WaitForAsync(t, s => s.State == TorrentState.Downloading, ct);
        await using var peer = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.Default, ct);

        var m = await peer.ReadUntilAsync(x => x.Id == MessageId.Extended && x.ExtendedId == 0, ct);

        Assert.True(ExtensionHandshake.TryParse(m.ExtendedBody, out var ours));
        Assert.Equal(isPrivate, ours!.GetId(ExtensionNames.UtPex) == 0);
        Assert.NotNull(ours.ListenPort);
    }

    [Fact]
    public async Task Pex_HostilePeerSendsAThousandAddressesTwice_AtMostFiftyTakenOnce()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, _) = await TorrentAsync(isPrivate: false, ct);
        await using var engine = EngineTestKit.NewEngine();
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "dl") }, ct);
        await EngineTestKit.WaitForAsync(t, s => s.State == TorrentState.Downloading, ct);
        await using var peer = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.Default, ct);
        var m = await peer.ReadUntilAsync(x => x.Id == MessageId.Extended && x.ExtendedId == 0, ct);
        Assert.True(ExtensionHandshake.TryParse(m.ExtendedBody, out var ours));
        var pexId = ours!.GetId(ExtensionNames.UtPex);

        // 1,000 addresses in one "added" (BEP 11 allows 50), written by hand since our encoder refuses to.
        await peer.SendAsync(PeerMessage.Extended(pexId, HostileAdded(first: 1, count: 1000)), ct);
        await EngineTestKit.WaitForAsync(t, s => s.PeersKnown > 1, ct);
        await Task.Delay(1500, ct); // a tick, so the status counts everything taken
        Assert.Equal(1 + PexMessage.MaxPeersPerList, t.Status.PeersKnown);

        // A second message straight after is over the one-a-minute limit: ignored.
        await peer.SendAsync(PeerMessage.Extended(pexId, HostileAdded(first: 2001, count: 10)), ct);
        await Task.Delay(1500, ct);
        Assert.Equal(1 + PexMessage.MaxPeersPerList, t.Status.PeersKnown);
        Assert.False(await peer.ClosedWithinAsync(TimeSpan.FromMilliseconds(200), ct));
    }

    private static byte[] HostileAdded(int first, int count)
    {
        var list = new byte[count * 6];
        for (var i = 0; i < count; i++)
        {
            var port = first + i;
            // 192.0.2.x (TEST-NET-1): nothing listens there on the in-memory network, so dials are refused at once.
            list[i * 6] = 192; list[i * 6 + 1] = 0; list[i * 6 + 2] = 2; list[i * 6 + 3] = (byte)(i % 250 + 1);
            list[i * 6 + 4] = (byte)(port >> 8); list[i * 6 + 5] = (byte)port;
        }
        var head = System.Text.Encoding.ASCII.GetBytes($"d5:added{list.Length}:");
        return [.. head, .. list, (byte)'e'];
    }
}
