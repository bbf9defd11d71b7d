using TorrentEdge.Engine.InteropTests.Support;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.InteropTests.Torrents;

/// <summary>
/// rtorrent 0.9.8 (libtorrent-rakshasa) and our engine, both ways, on 35 odd-sized files (two empty) whose pieces
/// straddle files. rtorrent has no Fast extension, so a request we drop is one it waits for until it gives up.
/// </summary>
public sealed class RtorrentInteropTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Rtorrent_DownloadsThirtyFiveOddFilesFromEngineSeeder_ByteForByte()
    {
        if (!RtorrentPeer.IsAvailable) Assert.Skip("rtorrent is not installed");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        // 128 MiB as in the report: rtorrent deepens its pipeline with the rate, and only past about 100 MiB at loopback
        // speed does it keep more than 256 requests out (about 400), where our seeder used to drop them unanswered.
        var (payload, torrent) = await LoopbackEngine.ThirtyFiveFileTorrentAsync(dir, 35, 128L << 20, 18, ct);
        var target = dir.CreateSubdirectory("leech");
        await using var rtorrent = RtorrentPeer.Start(torrent, target, dir.CreateSubdirectory("rtorrent"));
        await rtorrent.WaitForHashCheckedAsync(Bound, ct);

        // Our seeder dials it: rtorrent only learns peers from trackers.
        await using var engine = await LoopbackEngine.StartAsync(ct, dir);
        var t = await engine.AddTorrentFileAsync(torrent, new AddTorrentOptions { SavePath = payload.Root, Peers = [rtorrent.EndPoint] }, ct);
        await rtorrent.WaitForFinishedAsync(Bound, ct);

        payload.AssertSameAs(target);
        Assert.True(t.Status.Uploaded < payload.TotalLength + payload.TotalLength / 10, $"uploaded {t.Status.Uploaded} for {payload.TotalLength}");
    }

    [Fact]
    public async Task Engine_DownloadsThirtyFiveOddFilesFromRtorrentSeeder_ByteForByte()
    {
        if (!RtorrentPeer.IsAvailable) Assert.Skip("rtorrent is not installed");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.ThirtyFiveFileTorrentAsync(dir, 36, 32L << 20, 18, ct);
        await using var rtorrent = RtorrentPeer.Start(torrent, payload.Root, dir.CreateSubdirectory("rtorrent"));
        await rtorrent.WaitForHashCheckedAsync(Bound, ct);

        await using var engine = await LoopbackEngine.StartAsync(ct, dir);
        var target = dir.CreateSubdirectory("leech");
        var t = await engine.AddTorrentFileAsync(torrent, new AddTorrentOptions { SavePath = target, Peers = [rtorrent.EndPoint] }, ct);
        await Eventually.TrueAsync(() => t.State == TorrentState.Seeding, Bound, () => $"{t.Status}\n{rtorrent.Log}", ct);

        payload.AssertSameAs(target);
        Assert.Equal(0, t.Status.HashFailures);
    }
}
