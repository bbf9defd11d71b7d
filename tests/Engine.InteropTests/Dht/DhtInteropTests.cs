using System.Diagnostics;
using System.Net;
using TorrentEdge.Engine.Creation;
using TorrentEdge.Engine.Dht;
using TorrentEdge.Engine.InteropTests.Support;
using TorrentEdge.Engine.Magnet;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.InteropTests.Dht;

/// <summary>
/// A private DHT on loopback of our engine (127.0.0.1) and libtorrent 2.0.8 nodes (127.0.0.2 and after): trackerless
/// magnets complete through it in both directions, and a private torrent never shows up in it.
/// </summary>
public sealed class DhtInteropTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = LoopbackEngine.Bound;

    private static async Task<ClientEngine> EngineAsync(TempDirectory dir, CancellationToken ct, params string[] bootstrap)
    {
        var engine = new ClientEngine(new EngineOptions
        {
            ListenEndPoint = LoopbackEngine.Loopback(0),
            DownloadDirectory = dir.Combine("downloads"),
            ResumeDirectory = dir.Combine("resume"),
            // No bootstrap node: libtorrent joins through us. A short retry so a test need not wait 30 s between lookups.
            Dht = new DhtOptions { BootstrapNodes = bootstrap, RetryInterval = TimeSpan.FromSeconds(2), QueryTimeout = TimeSpan.FromSeconds(2) },
        });
        await engine.StartAsync(ct);
        return engine;
    }

    [Fact]
    public async Task Engine_TrackerlessMagnet_CompletesFromLibtorrentSeederFoundOnlyThroughTheDht()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var payload = TestPayload.MultiFileOddSizes(dir.CreateSubdirectory("seed"), 21);
        // No announce URL in the torrent either (mktorrent insists on one): nothing but the DHT names the seeder.
        var torrent = dir.Combine("t.torrent");
        await File.WriteAllBytesAsync(torrent, await TorrentCreator.CreateAsync(payload.ContentPath, new TorrentCreatorOptions { PieceLength = 32 * 1024 }, ct), ct);
        var meta = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrent, ct));
        Assert.Empty(meta.AnnounceTiers);

        await using var engine = await EngineAsync(dir, ct);
        await using var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        {
            Seed = true, TorrentPath = torrent, SavePath = payload.Root, Address = "127.0.0.2", DhtBootstrap = [engine.Dht!.LocalEndPoint!.ToString()],
        }, ct);
        await seeder.WaitForSeedingAsync(Bound, ct);

        var target = dir.CreateSubdirectory("leech");
        var started = Stopwatch.StartNew();
        // No tracker, no x.pe: the only way to the seeder is the DHT.
        var t = await engine.AddMagnetAsync(new MagnetLink(meta.InfoHash), new AddTorrentOptions { SavePath = target }, ct);
        await Eventually.TrueAsync(() => t.Status.BytesDone > 0, Bound, () => $"{t.Status}\n{engine.Dht.Status}\n{seeder.Log}", ct);
        var firstByte = started.Elapsed;
        await Eventually.TrueAsync(() => t.State == TorrentState.Seeding, Bound, () => $"{t.Status}\n{seeder.Log}", ct);
        output.WriteLine($"trackerless magnet through the DHT: first byte after {firstByte.TotalSeconds:0.00} s, complete after {started.Elapsed.TotalSeconds:0.00} s");

        payload.AssertSameAs(target);
        Assert.Contains(engine.Dht.Contacts(), c => c.EndPoint.Address.Equals(IPAddress.Parse("127.0.0.2")));
    }

    [Fact]
    public async Task Libtorrent_TrackerlessMagnet_FindsOurSeederThroughTheDht_AndNeverSeesOurPrivateTorrent()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 22, 15, ct);
        var meta = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrent, ct));
        var secretDir = dir.CreateSubdirectory("secret");
        await File.WriteAllBytesAsync(Path.Combine(secretDir, "secret.bin"), new byte[70_000], ct);
        var secret = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(Path.Combine(secretDir, "secret.bin"), new TorrentCreatorOptions { IsPrivate = true }, ct));

        await using var engine = await EngineAsync(dir, ct);
        var seeding = await engine.AddTorrentFileAsync(torrent, new AddTorrentOptions { SavePath = payload.Root }, ct);
        var privateSeed = await engine.AddAsync(secret, new AddTorrentOptions { SavePath = secretDir }, ct);
        await Eventually.TrueAsync(() => seeding.State == TorrentState.Seeding && privateSeed.State == TorrentState.Seeding, Bound, () => $"{seeding.Status}", ct);

        var target = dir.CreateSubdirectory("lt");
        await using var leecher = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        {
            Seed = false, Magnet = $"magnet:?xt=urn:btih:{meta.InfoHash.ToHex()}", SavePath = target, Address = "127.0.0.2",
            DhtBootstrap = [engine.Dht!.LocalEndPoint!.ToString()],
        }, ct);
        await leecher.WaitForFinishedAsync(Bound, ct);
        payload.AssertSameAs(target);

        // libtorrent reports every get_peers and announce_peer its node receives: ours for the public torrent, none for the private one.
        await leecher.WaitForLineAsync(l => l.Contains("incoming dht announce", StringComparison.Ordinal) && l.Contains(meta.InfoHash.ToHex(), StringComparison.Ordinal), Bound, ct);
        await Task.Delay(TimeSpan.FromSeconds(5), ct); // two more lookup rounds of ours
        Assert.DoesNotContain(secret.InfoHash.ToHex(), leecher.Log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Engine_JoinsALibtorrentDhtThroughAnotherNode_FindsTheSeederThere()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var payload = TestPayload.MultiFileOddSizes(dir.CreateSubdirectory("seed"), 23);
        var torrent = dir.Combine("t.torrent");
        await File.WriteAllBytesAsync(torrent, await TorrentCreator.CreateAsync(payload.ContentPath, new TorrentCreatorOptions { PieceLength = 32 * 1024 }, ct), ct);
        var meta = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrent, ct));

        // libtorrent nodes only: an entry node on 127.0.0.3 (waiting for a torrent nobody has) and the seeder on 127.0.0.2,
        // which joins through the entry node and announces itself there. Our engine knows only the entry node.
        await using var entry = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        {
            Seed = false, Magnet = "magnet:?xt=urn:btih:" + new string('e', 40), SavePath = dir.Combine("entry"), Address = "127.0.0.3",
            DhtBootstrap = ["127.0.0.3:1"],
        }, ct);
        await using var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        {
            Seed = true, TorrentPath = torrent, SavePath = payload.Root, Address = "127.0.0.2", DhtBootstrap = [entry.Endpoint],
        }, ct);
        await seeder.WaitForSeedingAsync(Bound, ct);
        await entry.WaitForLineAsync(l => l.Contains("incoming dht announce", StringComparison.Ordinal) && l.Contains(meta.InfoHash.ToHex(), StringComparison.Ordinal), Bound, ct);

        await using var engine = await EngineAsync(dir, ct, entry.Endpoint);
        var target = dir.CreateSubdirectory("leech");
        var started = Stopwatch.StartNew();
        var t = await engine.AddMagnetAsync(new MagnetLink(meta.InfoHash), new AddTorrentOptions { SavePath = target }, ct);
        await Eventually.TrueAsync(() => t.Status.BytesDone > 0, Bound, () => $"{t.Status}\n{engine.Dht!.Status}\n{entry.Log}", ct);
        output.WriteLine($"trackerless magnet through a libtorrent DHT: first byte after {started.Elapsed.TotalSeconds:0.00} s from adding the magnet");
        await Eventually.TrueAsync(() => t.State == TorrentState.Seeding, Bound, () => $"{t.Status}\n{seeder.Log}", ct);

        payload.AssertSameAs(target);
    }
}
