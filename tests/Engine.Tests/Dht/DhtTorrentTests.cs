using System.Net;
using TorrentEdge.Engine.Creation;
using TorrentEdge.Engine.Dht;
using TorrentEdge.Engine.Magnet;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Dht;

/// <summary>The DHT wired into the engine: torrents find peers through it, and private ones never use it.</summary>
public sealed class DhtTorrentTests() : TempFolderTest("dht-torrent-")
{
    private static DhtOptions Fast(params string[] bootstrap) => new()
    {
        BootstrapNodes = bootstrap,
        QueryTimeout = TimeSpan.FromSeconds(1),
        LookupTimeout = TimeSpan.FromSeconds(5),
        RetryInterval = TimeSpan.FromSeconds(1),
    };

    private static ClientEngine Engine(string address, string root, DhtOptions? dht) => new(new EngineOptions
    {
        ListenEndPoint = new IPEndPoint(IPAddress.Parse(address), 0),
        DownloadDirectory = root,
        Dht = dht,
    });

    [Fact]
    public async Task AddMagnetAsync_NoTrackersNoPeers_CompletesFromASeederFoundThroughTheDht()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, data) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "seed", "content.bin"), 300_000, 61, ct);
        await using var seeder = Engine("127.0.0.2", Path.Combine(Root, "seed"), Fast());
        await seeder.StartAsync(ct);
        var seeding = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "seed") }, ct);
        await EngineTestKit.WaitForAsync(seeding, s => s.State == TorrentState.Seeding, ct);

        await using var leecher = Engine("127.0.0.3", Path.Combine(Root, "dl"), Fast(seeder.Dht!.LocalEndPoint!.ToString()));
        await leecher.StartAsync(ct);
        var t = await leecher.AddMagnetAsync(new MagnetLink(meta.InfoHash), cancellationToken: ct);
        await EngineTestKit.WaitForAsync(t, s => s.State == TorrentState.Seeding, ct, TimeSpan.FromSeconds(60));

        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(Root, "dl", "content.bin"), ct));
    }

    [Fact]
    public async Task PrivateTorrent_InTheSameDht_IsNeverAnnouncedWhileAPublicOneIs()
    {
        var ct = TestContext.Current.CancellationToken;
        var seedDir = Path.Combine(Root, "seed");
        Directory.CreateDirectory(seedDir);
        await File.WriteAllBytesAsync(Path.Combine(seedDir, "public.bin"), new byte[40_000], ct);
        await File.WriteAllBytesAsync(Path.Combine(seedDir, "private.bin"), new byte[50_000], ct);
        var publicMeta = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(Path.Combine(seedDir, "public.bin"), new TorrentCreatorOptions(), ct));
        var privateMeta = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(Path.Combine(seedDir, "private.bin"), new TorrentCreatorOptions { IsPrivate = true }, ct));
        Assert.True(privateMeta.IsPrivate);

        await using var observer = new DhtEngine(new DhtOptions { ListenEndPoint = new IPEndPoint(IPAddress.Parse("127.0.0.4"), 0) });
        observer.Start();
        await using var seeder = Engine("127.0.0.2", seedDir, Fast(observer.LocalEndPoint!.ToString()));
        await seeder.StartAsync(ct);
        await seeder.AddAsync(privateMeta, new AddTorrentOptions { SavePath = seedDir }, ct);
        await seeder.AddAsync(publicMeta, new AddTorrentOptions { SavePath = seedDir }, ct);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (observer.Peers.Get(publicMeta.InfoHash).Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(100, ct);
        Assert.NotEmpty(observer.Peers.Get(publicMeta.InfoHash));
        // A few more lookup rounds (1 s apart) give a wrong announce of the private torrent every chance to happen.
        await Task.Delay(3000, ct);
        Assert.Empty(observer.Peers.Get(privateMeta.InfoHash));
        Assert.Equal(1, observer.Status.StoredTorrents);
    }

    [Fact]
    public async Task StartAsync_WithoutDhtOptions_StartsNoDht()
    {
        await using var engine = Engine("127.0.0.2", Root, dht: null);
        await engine.StartAsync(TestContext.Current.CancellationToken);
        Assert.Null(engine.Dht);
    }

    [Fact]
    public async Task StartAsync_WithResumeDirectory_KeepsTheRoutingTableThere()
    {
        var ct = TestContext.Current.CancellationToken;
        var resume = Path.Combine(Root, "resume");
        await using (var engine = new ClientEngine(new EngineOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0), ResumeDirectory = resume, Dht = Fast() }))
        {
            await engine.StartAsync(ct);
        }
        Assert.True(File.Exists(Path.Combine(resume, "dht-state.bencode")));
    }
}
