using System.Net;
using TorrentEdge.Engine.InteropTests.Support;
using TorrentEdge.Engine.Magnet;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.InteropTests.Torrents;

/// <summary>A magnet whose metadata only libtorrent has; a Transmission seeder.</summary>
public sealed class MagnetAndTransmissionTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Engine_StartsFromMagnetWhoseMetadataOnlyLibtorrentHas_ByteForByte()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 21, 15, ct);
        var infoHash = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrent, ct)).InfoHash;
        await using var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions { Seed = true, TorrentPath = torrent, SavePath = payload.Root }, ct);
        await seeder.WaitForSeedingAsync(Bound, ct);

        await using var engine = await LoopbackEngine.StartAsync(ct);
        var target = dir.CreateSubdirectory("leech");
        var magnet = MagnetLink.Parse($"magnet:?xt=urn:btih:{infoHash.ToHex()}&dn=payload&x.pe=127.0.0.1:{seeder.Port}");
        var t = await engine.AddMagnetAsync(magnet, new AddTorrentOptions { SavePath = target }, ct);
        Assert.Null(t.Metainfo);
        await Eventually.TrueAsync(() => t.State == TorrentState.Seeding, Bound, () => $"{t.Status}\n{seeder.Log}", ct);

        Assert.Equal(infoHash, t.Metainfo!.InfoHash);
        payload.AssertSameAs(target);
        var events = new List<TorrentEvent>();
        while (engine.Events.TryRead(out var e)) events.Add(e);
        Assert.Contains(events, e => e is MetadataReceivedEvent);
        Assert.Contains(events, e => e is TorrentCompletedEvent);
    }

    [Fact]
    public async Task Engine_DownloadsFromTransmissionSeeder_ByteForByte()
    {
        if (!TransmissionPeer.IsAvailable) Assert.Skip("transmission-cli is not installed");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 22, 15, ct);
        // Transmission ignores tracker peers on loopback: we dial it.
        await using var transmission = TransmissionPeer.Start(torrent, payload.Root, dir.CreateSubdirectory("tr-config"));
        await transmission.WaitForSeedingAsync(Bound, ct);

        await using var engine = await LoopbackEngine.StartAsync(ct);
        var target = dir.CreateSubdirectory("leech");
        var t = await engine.AddTorrentFileAsync(torrent, new AddTorrentOptions
        { SavePath = target, Peers = [new IPEndPoint(IPAddress.Loopback, transmission.Port)] }, ct);
        await Eventually.TrueAsync(() => t.State == TorrentState.Seeding, Bound, () => $"{t.Status}\n{transmission.Log}", ct);

        payload.AssertSameAs(target);
    }
}
