using System.Net;
using TorrentEdge.Engine.InteropTests.Support;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Torrents;
using TorrentEdge.Engine.Trackers;

namespace TorrentEdge.Engine.InteropTests.Torrents;

/// <summary>Peers found only through Debian's opentracker, over HTTP and over UDP.</summary>
public sealed class TrackerInteropTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    /// <summary>mktorrent twice: the info-hash (which the tracker's whitelist needs) does not depend on the announce URLs.</summary>
    private static async Task<(string Torrent, TorrentMetainfo Meta, OpenTracker Tracker)> TorrentWithTrackerAsync(
        TestPayload payload, TempDirectory dir, bool udp, CancellationToken ct)
    {
        var draft = dir.Combine("draft.torrent");
        await MkTorrent.CreateAsync(payload.ContentPath, draft, [], 15, ct);
        var infoHash = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(draft, ct)).InfoHash;
        var tracker = await OpenTracker.StartAsync([infoHash], ct);
        var torrent = dir.Combine("t.torrent");
        await MkTorrent.CreateAsync(payload.ContentPath, torrent, [(udp ? tracker.UdpAnnounceUrl : tracker.HttpAnnounceUrl).ToString()], 15, ct);
        var meta = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrent, ct));
        Assert.Equal(infoHash, meta.InfoHash);
        return (torrent, meta, tracker);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Engine_FindsLibtorrentSeederThroughOpenTracker_ByteForByte(bool udp)
    {
        if (!LibtorrentPeer.IsAvailable || !OpenTracker.IsInstalled) Assert.Skip("python3-libtorrent or opentracker is not installed");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var payload = TestPayload.MultiFileOddSizes(dir.CreateSubdirectory("seed"), seed: udp ? 62 : 61);
        var (torrent, meta, tracker) = await TorrentWithTrackerAsync(payload, dir, udp, ct);
        await using var _ = tracker;
        await using var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions { Seed = true, TorrentPath = torrent, SavePath = payload.Root }, ct);
        await seeder.WaitForAlertAsync("tracker_reply_alert", Bound, ct);

        await using var engine = await LoopbackEngine.StartAsync(ct);
        var target = dir.CreateSubdirectory("leech");
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = target }, ct); // no peers given: only the tracker knows
        await Eventually.TrueAsync(() => t.State == TorrentState.Seeding, Bound, () => $"{t.Status}\n{string.Join('\n', t.TrackerStatus)}\n{tracker.Output}", ct);

        payload.AssertSameAs(target);
        var status = Assert.Single(t.TrackerStatus);
        Assert.StartsWith(udp ? "udp://" : "http://", status.Url, StringComparison.Ordinal);
        Assert.True(status.PeersReceived > 0, status.ToString());
    }

    [Fact]
    public async Task Aria2_FindsEngineSeederThroughOpenTrackerHttp_ByteForByte()
    {
        if (!Aria2Peer.IsAvailable || !OpenTracker.IsInstalled) Assert.Skip("aria2 or opentracker is not installed");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var payload = TestPayload.MultiFileOddSizes(dir.CreateSubdirectory("seed"), seed: 63);
        var (torrent, meta, tracker) = await TorrentWithTrackerAsync(payload, dir, udp: false, ct);
        await using var _ = tracker;
        await using var engine = await LoopbackEngine.StartAsync(ct);
        var s = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = payload.Root }, ct);
        await Eventually.TrueAsync(() => s.State == TorrentState.Seeding && s.TrackerStatus.Any(x => x.Health == TrackerHealth.Working),
            Bound, () => $"{s.Status}\n{string.Join('\n', s.TrackerStatus)}", ct);

        var target = dir.CreateSubdirectory("leech");
        await using var aria = Aria2Peer.StartDownload(torrent, target);
        var code = await aria.WaitForExitAsync(Bound, ct);

        Assert.True(code == 0, aria.Log);
        payload.AssertSameAs(target);
        Assert.True(s.Status.Uploaded >= payload.TotalLength, s.Status.ToString());
    }
}
