using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using TorrentEdge.Catalog.Apis;
using TorrentEdge.Catalog.Tests.ThroughGateway;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.Engine.Metainfo;
using static TorrentEdge.Catalog.Tests.Apis.ProblemAssert;

namespace TorrentEdge.Catalog.Tests.Apis;

/// <summary>
/// Two users with one info-hash (issue 16): each keeps their own wishes and view, nobody sees another's trackers, magnet,
/// save path or .torrent, and private torrents are not shared. Run directly and through the real Gateway.
/// </summary>
public abstract class CoOwnersApiCases
{
    // Passkeys as private trackers put them: in the path and in the query.
    private const string Passkey = "A11CE5PA55KEY0123456789";
    private const string AliceTracker = "https://private.example/" + Passkey + "/announce?passkey=" + Passkey;
    private const string BobTracker = "http://bob.example/announce";

    private readonly ICatalogApiHost _host;

    protected CoOwnersApiCases(ICatalogApiHost host)
    {
        if (host.SkipReason is { } reason)
        {
            Assert.Skip(reason);
        }
        _host = host;
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private static string Magnet(string infoHash, string name) =>
        $"magnet:?xt=urn:btih:{infoHash}&dn={name}&tr={Uri.EscapeDataString(BobTracker)}";

    private static Task<HttpResponseMessage> AddMagnetAsync(HttpClient client, string magnet) =>
        client.PostAsJsonAsync("/api/torrents", new { magnetURI = magnet }, Ct);

    private async Task<TorrentSpecChanged> SpecAsync(string infoHash, long revision) =>
        await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == infoHash && s.Revision == revision);

    private static async Task<string> BodyAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsByteArrayAsync(Ct);
        // .torrent bytes are Latin-1-safe for a substring search; JSON is UTF-8 either way.
        return Encoding.Latin1.GetString(body);
    }

    [Fact]
    public async Task AddSameHash_PrivateTorrentOfAnotherUser_ConflictAndNoPasskeyAnywhere()
    {
        var alice = await _host.UserAsync();
        var bob = await _host.UserAsync();
        var torrent = TestTorrents.Single(Unique("private"), announce: AliceTracker, isPrivate: true);
        await IsAsync<TorrentView>(await TorrentsApiCases.UploadAsync(alice, torrent.Bytes), HttpStatusCode.Created);

        // Bob has the info-hash only: by magnet, and by uploading the same .torrent.
        var problem = await IsProblemAsync(await AddMagnetAsync(bob, Magnet(torrent.InfoHash, "bobs")), HttpStatusCode.Conflict,
            "Private torrent already added");
        Assert.DoesNotContain(Passkey, problem.GetRawText());
        await IsProblemAsync(await TorrentsApiCases.UploadAsync(bob, torrent.Bytes), HttpStatusCode.Conflict, "Private torrent already added");

        var url = $"/api/torrents/{torrent.InfoHash}";
        foreach (var response in new[]
                 {
                     await bob.GetAsync(url, Ct), await bob.GetAsync(url + "/metainfo", Ct), await bob.GetAsync("/api/torrents", Ct),
                 })
        {
            var body = await BodyAsync(response);
            Assert.DoesNotContain(Passkey, body);
        }
        await IsProblemAsync(await bob.GetAsync(url, Ct), HttpStatusCode.NotFound);
        var bobs = await IsAsync<TorrentListView>(await bob.GetAsync("/api/torrents", Ct), HttpStatusCode.OK);
        Assert.DoesNotContain(bobs.Items, t => t.InfoHash == torrent.InfoHash);

        // Alice's download is untouched: one owner, her tracker.
        var spec = await SpecAsync(torrent.InfoHash, 1);
        Assert.Single(spec.Owners);
        Assert.DoesNotContain(_host.Publisher.Published, p => p.Event is TorrentSpecChanged { Revision: > 1 } s && s.InfoHash == torrent.InfoHash);
        var hers = await IsAsync<TorrentView>(await alice.GetAsync(url, Ct), HttpStatusCode.OK);
        Assert.Equal(AliceTracker, Assert.Single(hers.Trackers).Url);

        // An admin who does not own it sees the download, but not her passkey.
        var admin = await _host.AdminAsync();
        var adminBody = await BodyAsync(await admin.GetAsync(url, Ct));
        Assert.DoesNotContain(Passkey, adminBody);
        Assert.Contains("https://private.example", adminBody);
        Assert.DoesNotContain(Passkey, await BodyAsync(await admin.GetAsync(url + "/metainfo", Ct)));
    }

    [Fact]
    public async Task AddPrivateUpload_MagnetOfAnotherUserFirst_ConflictAndBobKeepsHisOwn()
    {
        var alice = await _host.UserAsync();
        var bob = await _host.UserAsync();
        var torrent = TestTorrents.Single(Unique("private-late"), announce: AliceTracker, isPrivate: true);
        await IsAsync<TorrentView>(await AddMagnetAsync(bob, Magnet(torrent.InfoHash, "bobs")), HttpStatusCode.Created);

        // Alice's private upload would make Bob's download run on her passkey: refused.
        await IsProblemAsync(await TorrentsApiCases.UploadAsync(alice, torrent.Bytes), HttpStatusCode.Conflict, "Private torrent already added");

        var bobs = await BodyAsync(await bob.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct));
        Assert.DoesNotContain(Passkey, bobs);
        Assert.Single((await SpecAsync(torrent.InfoHash, 1)).Owners);
        Assert.Null((await SpecAsync(torrent.InfoHash, 1)).Metainfo);
    }

    [Fact]
    public async Task CoOwners_PublicTorrentWithPasskey_EachSeesOwnViewAndNoWishOverridesAnother()
    {
        var alice = await _host.UserAsync();
        var bob = await _host.UserAsync();
        var torrent = TestTorrents.Multi(Unique("shared"), AliceTracker, ("a.bin", 20_000), ("b.bin", 30_000));
        var url = $"/api/torrents/{torrent.InfoHash}";
        await IsAsync<TorrentView>(await TorrentsApiCases.UploadAsync(alice, torrent.Bytes, ("priority", "high")),
            HttpStatusCode.Created);
        var added = await IsAsync<TorrentView>(await AddMagnetAsync(bob, Magnet(torrent.InfoHash, "bobs-name")), HttpStatusCode.Created);
        Assert.Equal(2, (await SpecAsync(torrent.InfoHash, 2)).Owners.Count);

        // Bob's view: his name, magnet and tracker; nothing of Alice's, in GET, list, /metainfo or the add itself.
        foreach (var body in new[]
                 {
                     await BodyAsync(await bob.GetAsync(url, Ct)), await BodyAsync(await bob.GetAsync("/api/torrents", Ct)),
                     await BodyAsync(await bob.GetAsync(url + "/metainfo", Ct)),
                 })
        {
            Assert.DoesNotContain(Passkey, body);
            Assert.DoesNotContain("private.example", body);
        }
        Assert.Equal("bobs-name", added.Name);
        var bobView = await IsAsync<TorrentView>(await bob.GetAsync(url, Ct), HttpStatusCode.OK);
        Assert.Equal(BobTracker, Assert.Single(bobView.Trackers).Url);
        Assert.StartsWith("magnet:?xt=urn:btih:" + torrent.InfoHash, bobView.MagnetUri);
        Assert.Equal(TorrentPriority.Normal, bobView.Priority);

        // Bob's .torrent: the same info dictionary (same info-hash) around his own tracker.
        var bobsFile = TorrentMetainfo.Parse(await (await bob.GetAsync(url + "/metainfo", Ct)).Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal(torrent.InfoHash, bobsFile.InfoHash.ToHex());
        Assert.Equal([BobTracker], bobsFile.AnnounceTiers.SelectMany(t => t));
        // Alice's is her upload, byte for byte.
        Assert.Equal(torrent.Bytes, await (await alice.GetAsync(url + "/metainfo", Ct)).Content.ReadAsByteArrayAsync(Ct));

        // A tracker report from the worker names Alice's URL: Bob's status still shows only his own tracker.
        var events = _host.CatalogServices.GetRequiredService<TorrentEdge.ServiceDefaults.Messaging.IIntegrationEventPublisher>();
        await events.PublishAsync(TorrentEdge.Contracts.Topics.TorrentEvents, torrent.InfoHash,
            new TorrentProgressed(torrent.InfoHash, [], TorrentState.Downloading, 0.5, 25_000, 50_000, 25_000, 0, 1_000, 0, 1, 2, 25,
                [], [new TrackerStatus(AliceTracker, "working", 7, 8, "warning from " + AliceTracker)]), Ct);
        var reported = await PollAsync(bob, url, v => v.Progress == 0.5);
        Assert.Equal(BobTracker, Assert.Single(reported.Trackers).Url);
        Assert.DoesNotContain(Passkey, await BodyAsync(await bob.GetAsync(url, Ct)));
        var aliceReported = await PollAsync(alice, url, v => v.Progress == 0.5);
        Assert.Equal(("working", 7), (Assert.Single(aliceReported.Trackers).Health, aliceReported.Trackers[0].Seeders));

        // Bob pauses: his view is paused, Alice's is not, and the download keeps running for her.
        var bobPaused = await IsAsync<TorrentView>(await bob.PostAsync(url + "/pause", null, Ct), HttpStatusCode.OK);
        Assert.True(bobPaused.Paused);
        Assert.Equal(TorrentState.Paused, bobPaused.State);
        Assert.False((await SpecAsync(torrent.InfoHash, 3)).Paused);
        var aliceView = await IsAsync<TorrentView>(await alice.GetAsync(url, Ct), HttpStatusCode.OK);
        Assert.False(aliceView.Paused);
        Assert.Equal(TorrentState.Downloading, aliceView.State);

        // Only when every owner pauses does the download pause; Alice's resume runs it again while Bob stays paused.
        await IsAsync<TorrentView>(await alice.PostAsync(url + "/pause", null, Ct), HttpStatusCode.OK);
        Assert.True((await SpecAsync(torrent.InfoHash, 4)).Paused);
        await IsAsync<TorrentView>(await alice.PostAsync(url + "/resume", null, Ct), HttpStatusCode.OK);
        Assert.False((await SpecAsync(torrent.InfoHash, 5)).Paused);
        Assert.True((await IsAsync<TorrentView>(await bob.GetAsync(url, Ct), HttpStatusCode.OK)).Paused);

        // Files: a file is fetched while any running owner wants it.
        await IsAsync<TorrentView>(await bob.PostAsync(url + "/resume", null, Ct), HttpStatusCode.OK);
        await SpecAsync(torrent.InfoHash, 6);
        var bobSkips = await IsAsync<TorrentView>(await bob.PutAsJsonAsync(url + "/files", new { files = new[] { new { index = 0, priority = "skip" } } }, Ct),
            HttpStatusCode.OK);
        Assert.Equal([FilePriority.Skip, FilePriority.Normal], bobSkips.Files.Select(f => f.Priority));
        Assert.Equal([FilePriority.Normal, FilePriority.Normal], (await SpecAsync(torrent.InfoHash, 7)).FilePriorities);
        await IsAsync<TorrentView>(await alice.PutAsJsonAsync(url + "/files", new { files = new[] { new { index = 0, priority = "skip" } } }, Ct),
            HttpStatusCode.OK);
        Assert.Equal([FilePriority.Skip, FilePriority.Normal], (await SpecAsync(torrent.InfoHash, 8)).FilePriorities);

        // Priority: the highest wish counts; each sees their own.
        var bobLow = await IsAsync<TorrentView>(await bob.PutAsJsonAsync(url + "/priority", new { priority = "low" }, Ct), HttpStatusCode.OK);
        Assert.Equal(TorrentPriority.Low, bobLow.Priority);
        Assert.Equal(TorrentPriority.High, (await SpecAsync(torrent.InfoHash, 9)).Priority);
        Assert.Equal(TorrentPriority.High, (await IsAsync<TorrentView>(await alice.GetAsync(url, Ct), HttpStatusCode.OK)).Priority);

        // Bob's removal, asking for the data to go, leaves Alice's download and its files.
        Assert.Equal(HttpStatusCode.NoContent, (await bob.DeleteAsync(url + "?deleteData=true", Ct)).StatusCode);
        var afterBob = await SpecAsync(torrent.InfoHash, 10);
        Assert.False(afterBob.Removed);
        Assert.False(afterBob.DeleteData);
        Assert.False(afterBob.Paused);
        Assert.Equal(TorrentPriority.High, afterBob.Priority);
        Assert.Single(afterBob.Owners);
        await IsProblemAsync(await bob.GetAsync(url, Ct), HttpStatusCode.NotFound);
        var hers = await IsAsync<TorrentView>(await alice.GetAsync(url, Ct), HttpStatusCode.OK);
        Assert.Equal((false, AliceTracker), (hers.Paused, Assert.Single(hers.Trackers).Url));
    }

    private static async Task<TorrentView> PollAsync(HttpClient client, string url, Func<TorrentView, bool> done)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (true)
        {
            var current = await IsAsync<TorrentView>(await client.GetAsync(url, Ct), HttpStatusCode.OK);
            if (done(current))
            {
                return current;
            }
            await Task.Delay(100, timeout.Token);
        }
    }
}

/// <summary>The co-owner cases against Catalog itself.</summary>
public sealed class CoOwnersApiTests(CatalogFactory factory) : CoOwnersApiCases(factory), IClassFixture<CatalogFactory>;

/// <summary>The co-owner cases through the real Gateway in front of a real Catalog.</summary>
public sealed class CoOwnersApiThroughGatewayTests(GatewayCatalogFixture fixture) : CoOwnersApiCases(fixture), IClassFixture<GatewayCatalogFixture>;

/// <summary>The co-owner cases through the real Gateway on MongoDB (skipped without a server).</summary>
public sealed class CoOwnersApiThroughGatewayOnMongoTests(MongoGatewayCatalogFixture fixture) : CoOwnersApiCases(fixture), IClassFixture<MongoGatewayCatalogFixture>;
