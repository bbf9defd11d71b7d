using System.Net;
using TorrentEdge.Engine.InteropTests.Support;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.InteropTests.Torrents;

/// <summary>
/// Peer exchange (BEP 11) with libtorrent 2.0.8, which has ut_pex on by default: our engine learns a second seeder from
/// libtorrent's PEX and connects to it, and libtorrent learns a seeder from ours. The peer that is passed on never dials
/// anyone, so the only way to the connection is through what PEX said.
/// </summary>
public sealed class PexInteropTests
{
    private static readonly TimeSpan Bound = LoopbackEngine.Bound;

    [Fact]
    public async Task Engine_ToldOnlyOfALibtorrentSeeder_LearnsItsOtherSeederThroughPexAndConnects()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 71, 15, ct);
        // The second seeder: dials nobody, so a connection to it is always the other side's.
        await using var hidden = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        { Seed = true, TorrentPath = torrent, SavePath = payload.Root, KeepSeedConnections = true, NoSeedingDials = true }, ct);
        await hidden.WaitForSeedingAsync(Bound, ct);
        // The first seeder dials the second (an outgoing connection, which libtorrent passes on in PEX).
        await using var told = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        { Seed = true, TorrentPath = torrent, SavePath = payload.Root, KeepSeedConnections = true, Peers = [hidden.Endpoint] }, ct);
        await told.WaitForStatusAsync(s => s.GetProperty("seeding").GetBoolean() && s.GetProperty("peers").GetInt32() == 1, Bound, ct);

        await using var engine = await LoopbackEngine.StartAsync(ct, dir);
        var target = dir.CreateSubdirectory("leech");
        var t = await engine.AddTorrentFileAsync(torrent, new AddTorrentOptions { SavePath = target, Peers = [LoopbackEngine.Loopback(told.Port)] }, ct);

        PeerInfo? viaPex = null;
        await Eventually.TrueAsync(() => (viaPex = t.PeerInfos.FirstOrDefault(p => p.EndPoint?.Port == hidden.Port)) is not null,
            Bound, () => $"{t.Status}\n{told.Log}", ct);

        Assert.Equal(PeerSource.Pex, viaPex!.Source);
        Assert.False(viaPex.Incoming);
        await Eventually.TrueAsync(() => t.State == TorrentState.Seeding, Bound, () => t.Status.ToString(), ct);
        payload.AssertSameAs(target);
    }

    [Fact]
    public async Task Libtorrent_ConnectedOnlyToOurEngine_LearnsOurOtherSeederThroughPexAndConnects()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 72, 15, ct);
        // The seeder passed on: one of our engines that dials nobody.
        await using var hidden = new ClientEngine(new EngineOptions
        {
            ListenEndPoint = LoopbackEngine.Loopback(0),
            DownloadDirectory = dir.Combine("hidden-downloads"),
            SeedsDialPeers = false,
        });
        await hidden.StartAsync(ct);
        var h = await hidden.AddTorrentFileAsync(torrent, new AddTorrentOptions { SavePath = payload.Root }, ct);
        await Eventually.TrueAsync(() => h.State == TorrentState.Seeding, Bound, () => h.Status.ToString(), ct);

        // The engine libtorrent is told of dials the hidden seeder (an outgoing connection: its address takes connections).
        await using var engine = await LoopbackEngine.StartAsync(ct, dir);
        var t = await engine.AddTorrentFileAsync(torrent, new AddTorrentOptions { SavePath = payload.Root, Peers = [hidden.ListenEndPoint!] }, ct);
        await Eventually.TrueAsync(() => t.State == TorrentState.Seeding && t.Status.Peers == 1, Bound, () => t.Status.ToString(), ct);

        await using var leecher = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        {
            Seed = false, TorrentPath = torrent, SavePath = dir.CreateSubdirectory("leech"), Peers = [engine.ListenEndPoint!.ToString()],
            ReportPeers = true,
            // Slow enough to be still downloading at our first PEX tick: a finished libtorrent leaves seeds and
            // ignores seeds it hears of.
            DownloadLimit = 200_000,
        }, ct);

        var source = await leecher.WaitForPeerAsync(hidden.ListenEndPoint!.Port, Bound, ct);

        Assert.Equal(LibtorrentPeer.SourcePex, source & LibtorrentPeer.SourcePex);
        await leecher.WaitForFinishedAsync(Bound, ct);
    }
}
