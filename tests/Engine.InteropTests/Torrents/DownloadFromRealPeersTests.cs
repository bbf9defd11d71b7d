using System.Net;
using TorrentEdge.Engine.InteropTests.Support;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.InteropTests.Torrents;

/// <summary>Our engine downloads from established clients and they download from it, byte for byte.</summary>
public sealed class DownloadFromRealPeersTests
{
    private static readonly TimeSpan Bound = LoopbackEngine.Bound;

    private static IPEndPoint Loopback(int port) => LoopbackEngine.Loopback(port);

    [Fact]
    public async Task Engine_DownloadsMultiFileOddSizesFromLibtorrentSeeder_ByteForByte()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 11, 15, ct);
        await using var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions { Seed = true, TorrentPath = torrent, SavePath = payload.Root }, ct);
        await seeder.WaitForSeedingAsync(Bound, ct);

        await using var engine = await LoopbackEngine.StartAsync(ct, dir);
        var target = dir.CreateSubdirectory("leech");
        var t = await engine.AddTorrentFileAsync(torrent, new AddTorrentOptions { SavePath = target, Peers = [Loopback(seeder.Port)] }, ct);
        await Eventually.TrueAsync(() => t.State == TorrentState.Seeding, Bound, () => $"{t.Status}\n{seeder.Log}", ct);

        payload.AssertSameAs(target);
        Assert.Equal(payload.TotalLength, t.Status.BytesDone);
    }

    [Fact]
    public async Task Libtorrent_DownloadsFromEngineSeeder_ByteForByte()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 12, 15, ct);

        await using var engine = await LoopbackEngine.StartAsync(ct, dir);
        var t = await engine.AddTorrentFileAsync(torrent, new AddTorrentOptions { SavePath = payload.Root }, ct);
        await Eventually.TrueAsync(() => t.State == TorrentState.Seeding, Bound, () => t.Status.ToString(), ct);

        var target = dir.CreateSubdirectory("leech");
        await using var leecher = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        { Seed = false, TorrentPath = torrent, SavePath = target, Peers = [engine.ListenEndPoint!.ToString()] }, ct);
        await leecher.WaitForFinishedAsync(Bound, ct);

        payload.AssertSameAs(target);
        Assert.True(t.Status.Uploaded >= payload.TotalLength, t.Status.ToString());
    }

    [Fact]
    public async Task Aria2_DownloadsFromEngineSeeder_ByteForByte()
    {
        if (!Aria2Peer.IsAvailable) Assert.Skip("aria2 is not installed");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 13, 16, ct);
        var target = dir.CreateSubdirectory("leech");
        // aria2 cannot be told a peer: our seeder dials it.
        await using var aria = Aria2Peer.StartDownload(torrent, target);

        await using var engine = await LoopbackEngine.StartAsync(ct, dir);
        var t = await engine.AddTorrentFileAsync(torrent, new AddTorrentOptions { SavePath = payload.Root, Peers = [Loopback(aria.Port)] }, ct);
        var code = await aria.WaitForExitAsync(Bound, ct);

        Assert.True(code == 0, aria.Log);
        payload.AssertSameAs(target);
    }

    [Fact]
    public async Task Libtorrent_DownloadsFromEngineSuperSeeder_ByteForByteEachPieceSentAboutOnce()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 14, 16, ct);

        await using var engine = await LoopbackEngine.StartAsync(ct, dir);
        var t = await engine.AddTorrentFileAsync(torrent, new AddTorrentOptions { SavePath = payload.Root, SuperSeed = true }, ct);
        await Eventually.TrueAsync(() => t.State == TorrentState.Seeding, Bound, () => t.Status.ToString(), ct);

        var target = dir.CreateSubdirectory("leech");
        await using var leecher = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        { Seed = false, TorrentPath = torrent, SavePath = target, Peers = [engine.ListenEndPoint!.ToString()] }, ct);
        // 23 pieces, each one offer and one round trip away: well under a minute unless an offer stalls.
        await leecher.WaitForFinishedAsync(TimeSpan.FromSeconds(45), ct);

        payload.AssertSameAs(target);
        // One piece offered at a time, each requested once: no duplicate uploads (the status is refreshed each second).
        await Eventually.TrueAsync(() => t.Status.Uploaded >= payload.TotalLength, Bound, () => t.Status.ToString(), ct);
        Assert.InRange(t.Status.Uploaded, payload.TotalLength, payload.TotalLength + payload.TotalLength / 10);
    }

    [Fact]
    public async Task Aria2_DownloadsFromCliSuperSeeder_ByteForByte()
    {
        if (!Aria2Peer.IsAvailable) Assert.Skip("aria2 is not installed");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 15, 16, ct);
        var target = dir.CreateSubdirectory("leech");
        await using var aria = Aria2Peer.StartDownload(torrent, target);

        // The command line's seed --super-seed, dialling aria2 (which cannot be told a peer).
        await using var seeder = EngineCli.Start("seed", torrent, payload.Root, "--super-seed", "--bind", "127.0.0.1", "--peer", aria.Endpoint,
            "--resume", dir.Combine("resume"));
        await seeder.WaitForLineAsync(l => l.Contains("(super-seeding)", StringComparison.Ordinal), Bound, ct);
        var code = await aria.WaitForExitAsync(Bound, ct);

        Assert.True(code == 0, aria.Log + "\n" + seeder.Log);
        payload.AssertSameAs(target);
    }
}
