using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using TorrentEdge.Catalog.Apis;
using TorrentEdge.Catalog.Tests.ThroughGateway;
using TorrentEdge.Contracts.Torrents;
using static TorrentEdge.Catalog.Tests.Apis.ProblemAssert;

namespace TorrentEdge.Catalog.Tests.Apis;

/// <summary>Every torrents endpoint and bad-input case. Run directly against Catalog and through the Gateway (see the classes at the end).</summary>
public abstract class TorrentsApiCases
{
    private readonly ICatalogApiHost _host;

    protected TorrentsApiCases(ICatalogApiHost host)
    {
        // A host whose store has no server here (MongoDB without Docker): every case is skipped with the reason.
        if (host.SkipReason is { } reason)
        {
            Assert.Skip(reason);
        }
        _host = host;
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string MagnetHash = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";

    internal static Task<HttpResponseMessage> UploadAsync(HttpClient client, byte[] bytes, params (string Name, string Value)[] fields)
    {
        var content = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/x-bittorrent");
        content.Add(file, "file", "test.torrent");
        foreach (var (name, value) in fields)
        {
            content.Add(new StringContent(value), name);
        }
        return client.PostAsync("/api/torrents", content, Ct);
    }

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task Add_TorrentFile_CreatedWithLocationAndPublished()
    {
        var user = await _host.UserAsync();
        var torrent = TestTorrents.Multi(Unique("multi"), ("a/one.bin", 20_000), ("two.bin", 30_000));
        var response = await UploadAsync(user, torrent.Bytes);
        var view = await IsAsync<TorrentView>(response, HttpStatusCode.Created);
        Assert.Equal($"/api/torrents/{torrent.InfoHash}", response.Headers.Location?.OriginalString);
        Assert.Equal(torrent.InfoHash, view.InfoHash);
        Assert.Equal(torrent.Name, view.Name);
        Assert.Equal(50_000, view.TotalBytes);
        Assert.Equal(TorrentState.Queued, view.State);
        Assert.True(view.MetainfoAvailable);
        Assert.Equal([$"{torrent.Name}/a/one.bin", $"{torrent.Name}/two.bin"], view.Files.Select(f => f.Path));
        Assert.Equal("http://tracker.example/announce", Assert.Single(view.Trackers).Url);
        Assert.Null(view.Owners);

        var spec = await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash);
        Assert.Equal(torrent.Bytes, spec.Metainfo);
        Assert.Equal(1, spec.Revision);
        Assert.False(spec.Paused);
        Assert.Single(spec.Owners);
        Assert.Contains(_host.Publisher.Published, p => p.Topic == "torrent-specs" && p.Key == torrent.InfoHash);
    }

    [Fact]
    public async Task Add_WithOptions_StoresThem()
    {
        var user = await _host.UserAsync();
        var torrent = TestTorrents.Multi(Unique("opts"), ("x.bin", 100), ("y.bin", 200));
        var view = await IsAsync<TorrentView>(await UploadAsync(user, torrent.Bytes,
            ("paused", "true"), ("priority", "high"), ("filePriorities", "skip,high")), HttpStatusCode.Created);
        Assert.True(view.Paused);
        Assert.Equal(TorrentState.Paused, view.State);
        Assert.Equal(TorrentPriority.High, view.Priority);
        Assert.Equal([FilePriority.Skip, FilePriority.High], view.Files.Select(f => f.Priority));
        var spec = await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash);
        Assert.True(spec.Paused);
        Assert.Equal(TorrentPriority.High, spec.Priority);
    }

    [Theory]
    [InlineData("savePath", "../../etc", "Save path not supported")]
    [InlineData("savePath", "movies", "Save path not supported")]
    [InlineData("paused", "perhaps", "Invalid paused flag")]
    [InlineData("priority", "urgent", "Invalid priority")]
    [InlineData("priority", "{\"$gt\":\"\"}", "Invalid priority")]
    [InlineData("filePriorities", "high,high,high", "Invalid file priorities")]
    public async Task Add_BadOption_BadRequest(string field, string value, string title)
    {
        var user = await _host.UserAsync();
        var torrent = TestTorrents.Single(Unique("bad-option"));
        await IsProblemAsync(await UploadAsync(user, torrent.Bytes, (field, value)), HttpStatusCode.BadRequest, title);
    }

    [Fact]
    public async Task Add_MagnetWithSavePath_BadRequestAndNothingAdded()
    {
        var user = await _host.UserAsync();
        var hash = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        var magnet = $"magnet:?xt=urn:btih:{hash}&dn=x";

        var problem = await IsProblemAsync(await user.PostAsJsonAsync("/api/torrents", new { magnetURI = magnet, savePath = "movies" }, Ct),
            HttpStatusCode.BadRequest, "Save path not supported");

        Assert.Contains("<info-hash>", problem.GetProperty("detail").GetString());
        var list = await IsAsync<TorrentListView>(await user.GetAsync("/api/torrents", Ct), HttpStatusCode.OK);
        Assert.DoesNotContain(list.Items, t => t.InfoHash == hash);
    }

    [Fact]
    public async Task Add_SameTorrentTwiceBySameUser_OkWithExisting()
    {
        var user = await _host.UserAsync();
        var torrent = TestTorrents.Single(Unique("dup"));
        await IsAsync<TorrentView>(await UploadAsync(user, torrent.Bytes), HttpStatusCode.Created);
        var again = await IsAsync<TorrentView>(await UploadAsync(user, torrent.Bytes), HttpStatusCode.OK);
        Assert.Equal(torrent.InfoHash, again.InfoHash);
        var list = await IsAsync<TorrentListView>(await user.GetAsync("/api/torrents", Ct), HttpStatusCode.OK);
        Assert.Single(list.Items, t => t.InfoHash == torrent.InfoHash);
    }

    [Fact]
    public async Task Add_SameTorrentByTwoUsers_OneDownloadTwoOwners_RemovalOnlyRemovesOwnership()
    {
        var alice = await _host.UserAsync();
        var bob = await _host.UserAsync();
        var admin = await _host.AdminAsync();
        var torrent = TestTorrents.Single(Unique("shared"));
        await IsAsync<TorrentView>(await UploadAsync(alice, torrent.Bytes), HttpStatusCode.Created);
        await IsAsync<TorrentView>(await UploadAsync(bob, torrent.Bytes), HttpStatusCode.Created);

        var asAdmin = await IsAsync<TorrentView>(await admin.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.OK);
        Assert.Equal(2, asAdmin.Owners!.Count);
        var spec = await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash && s.Owners.Count == 2);
        Assert.Equal(2, spec.Revision);

        Assert.Equal(HttpStatusCode.NoContent, (await alice.DeleteAsync($"/api/torrents/{torrent.InfoHash}?deleteData=true", Ct)).StatusCode);
        await IsProblemAsync(await alice.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.NotFound);
        await IsAsync<TorrentView>(await bob.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.OK);
        var afterAlice = await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash && s.Revision == 3);
        Assert.False(afterAlice.Removed);
        Assert.Single(afterAlice.Owners);

        Assert.Equal(HttpStatusCode.NoContent, (await bob.DeleteAsync($"/api/torrents/{torrent.InfoHash}?deleteData=true", Ct)).StatusCode);
        var removed = await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash && s.Revision == 4);
        Assert.True(removed.Removed);
        Assert.True(removed.DeleteData);
        Assert.Empty(removed.Owners);
        await IsProblemAsync(await admin.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.NotFound);

        // Added again after removal: a new download with a higher revision.
        await IsAsync<TorrentView>(await UploadAsync(bob, torrent.Bytes), HttpStatusCode.Created);
        var revived = await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash && s.Revision == 5);
        Assert.False(revived.Removed);
    }

    [Fact]
    public async Task Add_Magnet_CreatedFetchingMetadata()
    {
        var user = await _host.UserAsync();
        var hash = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "00000000";
        var magnet = $"magnet:?xt=urn:btih:{hash.ToUpperInvariant()}&dn=Some+Name&tr=udp%3A%2F%2Ftracker.example%3A80";
        var response = await user.PostAsJsonAsync("/api/torrents", new { magnetURI = magnet, paused = false, priority = "low" }, Ct);
        var view = await IsAsync<TorrentView>(response, HttpStatusCode.Created);
        Assert.Equal(hash, view.InfoHash);
        Assert.Equal("Some Name", view.Name);
        Assert.Equal(TorrentState.FetchingMetadata, view.State);
        Assert.False(view.MetainfoAvailable);
        Assert.Equal(TorrentPriority.Low, view.Priority);
        Assert.Equal("udp://tracker.example:80", Assert.Single(view.Trackers).Url);
        var spec = await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == hash);
        Assert.Equal(magnet, spec.MagnetUri);
        Assert.False(spec.MetainfoAvailable);

        await IsProblemAsync(await user.GetAsync($"/api/torrents/{hash}/metainfo", Ct), HttpStatusCode.NotFound, "Metadata not available");
        await IsProblemAsync(await user.PostAsync($"/api/torrents/{hash}/recheck", null, Ct), HttpStatusCode.Conflict);
        await IsProblemAsync(await user.PutAsJsonAsync($"/api/torrents/{hash}/files", new { files = new[] { new { index = 0, priority = "high" } } }, Ct),
            HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Add_MagnetBase32_SameHashAsHex()
    {
        var user = await _host.UserAsync();
        // Base32 of c12fe1c06bba254a9dc9f519b335aa7c1367a88a.
        var view = await IsAsync<TorrentView>(await user.PostAsJsonAsync("/api/torrents",
            new { magnetURI = "magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK" }, Ct), HttpStatusCode.Created);
        Assert.Equal(MagnetHash, view.InfoHash);
    }

    [Theory]
    [InlineData("http://example.com/file.torrent")]
    [InlineData("magnet:?dn=no-hash")]
    [InlineData("magnet:?xt=urn:btih:1234")]
    [InlineData("magnet:?xt=urn:btih:{\"$where\":\"sleep(1000)\"}")]
    public async Task Add_BadMagnet_BadRequest(string magnet)
    {
        var user = await _host.UserAsync();
        await IsProblemAsync(await user.PostAsJsonAsync("/api/torrents", new { magnetURI = magnet }, Ct), HttpStatusCode.BadRequest, "Invalid magnet URI");
    }

    [Fact]
    public async Task Add_VeryLongMagnet_BadRequest()
    {
        var user = await _host.UserAsync();
        var magnet = $"magnet:?xt=urn:btih:{MagnetHash}&dn=" + new string('x', 20_000);
        await IsProblemAsync(await user.PostAsJsonAsync("/api/torrents", new { magnetURI = magnet }, Ct), HttpStatusCode.BadRequest, "Invalid magnet URI");
    }

    [Fact]
    public async Task Add_MissingMagnetOrMalformedJson_BadRequest()
    {
        var user = await _host.UserAsync();
        await IsProblemAsync(await user.PostAsJsonAsync("/api/torrents", new { other = 1 }, Ct), HttpStatusCode.BadRequest, "Missing magnet URI");
        await IsProblemAsync(await user.PostAsync("/api/torrents", new StringContent("{\"magnetURI\":", Encoding.UTF8, "application/json"), Ct),
            HttpStatusCode.BadRequest, "Malformed JSON");
    }

    [Fact]
    public async Task Add_MalformedBencode_BadRequestWithReasonAndOffset()
    {
        var user = await _host.UserAsync();
        var problem = await IsProblemAsync(await UploadAsync(user, "d4:infod4:name3:abc"u8.ToArray()), HttpStatusCode.BadRequest, "Malformed torrent file");
        Assert.Equal(19, problem.GetProperty("offset").GetInt64());
        Assert.Contains("offset 19", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Add_DecoderBomb_BadRequestTooComplexProblem()
    {
        var user = await _host.UserAsync();
        // Just under the test limit of 1 MiB: an info "dictionary" that is a list of half a million empty lists.
        var bomb = Encoding.ASCII.GetBytes("d4:infol" + string.Concat(Enumerable.Repeat("le", 500_000)) + "ee");

        var problem = await IsProblemAsync(await UploadAsync(user, bomb), HttpStatusCode.BadRequest, "Torrent file too complex");

        Assert.True(problem.GetProperty("offset").GetInt64() > 0);
    }

    [Fact]
    public async Task Add_BencodeThatIsNotATorrent_BadRequestInvalidTorrent()
    {
        var user = await _host.UserAsync();
        await IsProblemAsync(await UploadAsync(user, "d3:foo3:bare"u8.ToArray()), HttpStatusCode.BadRequest, "Invalid torrent file");
        await IsProblemAsync(await UploadAsync(user, "d4:infod4:name3:abc12:piece lengthi16384e6:pieces3:abc6:lengthi5eee"u8.ToArray()),
            HttpStatusCode.BadRequest, "Invalid torrent file");
    }

    [Fact]
    public async Task Add_WrongContentType_UnsupportedMediaType()
    {
        var user = await _host.UserAsync();
        foreach (HttpContent content in new HttpContent[]
        {
            new StringContent("magnet:?xt=urn:btih:" + MagnetHash, Encoding.UTF8, "text/plain"),
            new FormUrlEncodedContent([new("magnetURI", "x")]),
            new ByteArrayContent(TestTorrents.Single(Unique("raw")).Bytes) { Headers = { ContentType = new MediaTypeHeaderValue("application/x-bittorrent") } },
        })
        {
            var problem = await IsProblemAsync(await user.PostAsync("/api/torrents", content, Ct), HttpStatusCode.UnsupportedMediaType, "Unsupported content type");
            Assert.Contains("multipart/form-data", problem.GetProperty("detail").GetString());
        }
    }

    [Fact]
    public async Task Add_BodyOverLimit_PayloadTooLarge()
    {
        var user = await _host.UserAsync();
        await IsProblemAsync(await UploadAsync(user, new byte[2 * 1024 * 1024]), HttpStatusCode.RequestEntityTooLarge, "Request body too large");
    }

    [Fact]
    public async Task Add_MissingFileField_BadRequest()
    {
        var user = await _host.UserAsync();
        var content = new MultipartFormDataContent { { new StringContent("true"), "paused" } };
        await IsProblemAsync(await user.PostAsync("/api/torrents", content, Ct), HttpStatusCode.BadRequest, "Missing file");
    }

    [Fact]
    public async Task Add_NoToken_Unauthorized()
    {
        await IsProblemAsync(await UploadAsync(_host.CreateApiClient(), TestTorrents.Single(Unique("anon")).Bytes), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task List_OnlyOwnTorrents_AdminSeesAll()
    {
        var alice = await _host.UserAsync();
        var bob = await _host.UserAsync();
        var a = TestTorrents.Single(Unique("alice"));
        var b = TestTorrents.Single(Unique("bob"));
        await UploadAsync(alice, a.Bytes);
        await UploadAsync(bob, b.Bytes);

        var aliceList = await IsAsync<TorrentListView>(await alice.GetAsync("/api/torrents", Ct), HttpStatusCode.OK);
        Assert.Equal([a.InfoHash], aliceList.Items.Select(t => t.InfoHash));
        Assert.Equal(1, aliceList.Total);

        var adminList = await IsAsync<TorrentListView>(await (await _host.AdminAsync()).GetAsync("/api/torrents?pageSize=200", Ct), HttpStatusCode.OK);
        Assert.Contains(adminList.Items, t => t.InfoHash == a.InfoHash);
        Assert.Contains(adminList.Items, t => t.InfoHash == b.InfoHash);
    }

    [Fact]
    public async Task List_PagingSortingAndStateFilter()
    {
        var user = await _host.UserAsync();
        var names = new[] { "charlie", "alpha", "bravo" };
        foreach (var name in names)
        {
            await UploadAsync(user, TestTorrents.Single(name + Guid.NewGuid().ToString("N")).Bytes, ("paused", name == "bravo" ? "true" : "false"));
        }
        var byName = await IsAsync<TorrentListView>(await user.GetAsync("/api/torrents?sort=name&order=asc&pageSize=2&page=1", Ct), HttpStatusCode.OK);
        Assert.Equal(3, byName.Total);
        Assert.Equal(2, byName.Items.Count);
        Assert.StartsWith("alpha", byName.Items[0].Name);
        Assert.StartsWith("bravo", byName.Items[1].Name);
        var page2 = await IsAsync<TorrentListView>(await user.GetAsync("/api/torrents?sort=name&order=asc&pageSize=2&page=2", Ct), HttpStatusCode.OK);
        Assert.StartsWith("charlie", Assert.Single(page2.Items).Name);

        var byAddedDesc = await IsAsync<TorrentListView>(await user.GetAsync("/api/torrents?sort=added&order=desc", Ct), HttpStatusCode.OK);
        Assert.StartsWith("bravo", byAddedDesc.Items[0].Name);

        var paused = await IsAsync<TorrentListView>(await user.GetAsync("/api/torrents?state=paused", Ct), HttpStatusCode.OK);
        Assert.StartsWith("bravo", Assert.Single(paused.Items).Name);

        foreach (var sort in new[] { "progress", "rate" })
        {
            var sorted = await IsAsync<TorrentListView>(await user.GetAsync($"/api/torrents?sort={sort}", Ct), HttpStatusCode.OK);
            Assert.Equal(3, sorted.Items.Count);
        }
    }

    [Theory]
    [InlineData("page=0", "Invalid page")]
    [InlineData("pageSize=1000", "Invalid page size")]
    [InlineData("state=%24where", "Invalid state")]
    [InlineData("state=1", "Invalid state")]
    [InlineData("sort=size", "Invalid sort")]
    [InlineData("sort=name%27%3B%20DROP%20TABLE%20torrents%3B--", "Invalid sort")]
    [InlineData("order=sideways", "Invalid order")]
    public async Task List_BadQuery_BadRequest(string query, string title)
    {
        var user = await _host.UserAsync();
        await IsProblemAsync(await user.GetAsync("/api/torrents?" + query, Ct), HttpStatusCode.BadRequest, title);
    }

    [Fact]
    public async Task List_NonNumericPage_BadRequestProblem()
    {
        var user = await _host.UserAsync();
        await IsProblemAsync(await user.GetAsync("/api/torrents?page=%7B%22%24gt%22%3A0%7D", Ct), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Get_UnknownHash_NotFound()
    {
        var user = await _host.UserAsync();
        await IsProblemAsync(await user.GetAsync($"/api/torrents/{new string('a', 40)}", Ct), HttpStatusCode.NotFound, "Unknown torrent");
    }

    [Theory]
    [InlineData("%24where")]
    [InlineData("%7B%22%24gt%22%3A%22%22%7D")]
    [InlineData("abc%27%20OR%20%271%27%3D%271")]
    [InlineData("zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz")]
    public async Task Get_HostileHash_BadRequest(string hash)
    {
        var user = await _host.UserAsync();
        await IsProblemAsync(await user.GetAsync($"/api/torrents/{hash}", Ct), HttpStatusCode.BadRequest, "Invalid info-hash");
        await IsProblemAsync(await user.PostAsync($"/api/torrents/{hash}/pause", null, Ct), HttpStatusCode.BadRequest, "Invalid info-hash");
        await IsProblemAsync(await user.DeleteAsync($"/api/torrents/{hash}", Ct), HttpStatusCode.BadRequest, "Invalid info-hash");
    }

    [Fact]
    public async Task Get_VeryLongHash_BadRequest()
    {
        var user = await _host.UserAsync();
        await IsProblemAsync(await user.GetAsync($"/api/torrents/{new string('a', 5000)}", Ct), HttpStatusCode.BadRequest, "Invalid info-hash");
    }

    [Fact]
    public async Task OtherUsersTorrent_EveryEndpoint_NotFound()
    {
        var owner = await _host.UserAsync();
        var other = await _host.UserAsync();
        var torrent = TestTorrents.Single(Unique("private"));
        await UploadAsync(owner, torrent.Bytes);
        var url = $"/api/torrents/{torrent.InfoHash}";
        await IsProblemAsync(await other.GetAsync(url, Ct), HttpStatusCode.NotFound);
        await IsProblemAsync(await other.GetAsync(url + "/metainfo", Ct), HttpStatusCode.NotFound);
        await IsProblemAsync(await other.PostAsync(url + "/pause", null, Ct), HttpStatusCode.NotFound);
        await IsProblemAsync(await other.PostAsync(url + "/resume", null, Ct), HttpStatusCode.NotFound);
        await IsProblemAsync(await other.PostAsync(url + "/recheck", null, Ct), HttpStatusCode.NotFound);
        await IsProblemAsync(await other.PutAsJsonAsync(url + "/priority", new { priority = "high" }, Ct), HttpStatusCode.NotFound);
        await IsProblemAsync(await other.PutAsJsonAsync(url + "/files", new { files = new[] { new { index = 0, priority = "high" } } }, Ct), HttpStatusCode.NotFound);
        await IsProblemAsync(await other.DeleteAsync(url, Ct), HttpStatusCode.NotFound);
        // Still there for its owner.
        await IsAsync<TorrentView>(await owner.GetAsync(url, Ct), HttpStatusCode.OK);
    }

    [Fact]
    public async Task PauseResumeRecheck_ChangeDesiredStateAndPublish()
    {
        var user = await _host.UserAsync();
        var torrent = TestTorrents.Single(Unique("control"));
        await UploadAsync(user, torrent.Bytes);
        var url = $"/api/torrents/{torrent.InfoHash}";

        var paused = await IsAsync<TorrentView>(await user.PostAsync(url + "/pause", null, Ct), HttpStatusCode.OK);
        Assert.True(paused.Paused);
        Assert.True((await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash && s.Revision == 2)).Paused);

        // Pausing again changes nothing and publishes nothing.
        await IsAsync<TorrentView>(await user.PostAsync(url + "/pause", null, Ct), HttpStatusCode.OK);

        var resumed = await IsAsync<TorrentView>(await user.PostAsync(url + "/resume", null, Ct), HttpStatusCode.OK);
        Assert.False(resumed.Paused);
        Assert.False((await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash && s.Revision == 3)).Paused);

        await IsAsync<TorrentView>(await user.PostAsync(url + "/recheck", null, Ct), HttpStatusCode.OK);
        Assert.Equal(1, (await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash && s.Revision == 4)).RecheckGeneration);
    }

    [Fact]
    public async Task Add_WithEncryption_ShownAndCarriedInTheSpec()
    {
        var user = await _host.UserAsync();
        var hash = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "00000000";
        var view = await IsAsync<TorrentView>(await user.PostAsJsonAsync("/api/torrents",
            new { magnetURI = $"magnet:?xt=urn:btih:{hash}", encryption = "Require" }, Ct), HttpStatusCode.Created);
        Assert.Equal(PeerEncryption.Require, view.Encryption);
        Assert.Equal(PeerEncryption.Require, (await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == hash)).Encryption);

        var torrent = TestTorrents.Single(Unique("enc"));
        view = await IsAsync<TorrentView>(await UploadAsync(user, torrent.Bytes, ("encryption", "disable")), HttpStatusCode.Created);
        Assert.Equal(PeerEncryption.Disable, view.Encryption);
        Assert.Equal(PeerEncryption.Disable, (await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash)).Encryption);

        // Without one, the worker's own setting: no override in the spec.
        var plain = TestTorrents.Single(Unique("enc-none"));
        view = await IsAsync<TorrentView>(await UploadAsync(user, plain.Bytes), HttpStatusCode.Created);
        Assert.Null(view.Encryption);
        Assert.Null((await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == plain.InfoHash)).Encryption);
    }

    [Theory]
    [InlineData("sometimes")]
    [InlineData("1")]
    [InlineData("{\"$ne\":null}")]
    public async Task Add_InvalidEncryption_ProblemAndNothingAdded(string value)
    {
        var user = await _host.UserAsync();
        var torrent = TestTorrents.Single(Unique("enc-bad"));
        await IsProblemAsync(await UploadAsync(user, torrent.Bytes, ("encryption", value)), HttpStatusCode.BadRequest, "Invalid encryption");
        var hash = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray()) + "00000000";
        await IsProblemAsync(await user.PostAsJsonAsync("/api/torrents", new { magnetURI = $"magnet:?xt=urn:btih:{hash}", encryption = value }, Ct),
            HttpStatusCode.BadRequest, "Invalid encryption");
        await IsProblemAsync(await user.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task SetEncryption_ValidAndInvalid()
    {
        var user = await _host.UserAsync();
        var torrent = TestTorrents.Single(Unique("enc-set"));
        await UploadAsync(user, torrent.Bytes);
        var url = $"/api/torrents/{torrent.InfoHash}/encryption";
        var view = await IsAsync<TorrentView>(await user.PutAsJsonAsync(url, new { encryption = "require" }, Ct), HttpStatusCode.OK);
        Assert.Equal(PeerEncryption.Require, view.Encryption);
        Assert.Equal(PeerEncryption.Require, (await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash && s.Revision == 2)).Encryption);
        // Kept in the store (the owner's wishes): read back.
        Assert.Equal(PeerEncryption.Require, (await IsAsync<TorrentView>(await user.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.OK)).Encryption);
        view = await IsAsync<TorrentView>(await user.PutAsJsonAsync(url, new { encryption = "default" }, Ct), HttpStatusCode.OK);
        Assert.Null(view.Encryption);
        Assert.Null((await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash && s.Revision == 3)).Encryption);

        await IsProblemAsync(await user.PutAsJsonAsync(url, new { encryption = "always" }, Ct), HttpStatusCode.BadRequest, "Invalid encryption");
        await IsProblemAsync(await user.PutAsJsonAsync(url, new { }, Ct), HttpStatusCode.BadRequest, "Invalid encryption");
        await IsProblemAsync(await user.PutAsJsonAsync($"/api/torrents/{new string('b', 40)}/encryption", new { encryption = "prefer" }, Ct), HttpStatusCode.NotFound);
        var other = await _host.UserAsync();
        await IsProblemAsync(await other.PutAsJsonAsync(url, new { encryption = "disable" }, Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task SetPriority_ValidAndInvalid()
    {
        var user = await _host.UserAsync();
        var torrent = TestTorrents.Single(Unique("prio"));
        await UploadAsync(user, torrent.Bytes);
        var url = $"/api/torrents/{torrent.InfoHash}/priority";
        var view = await IsAsync<TorrentView>(await user.PutAsJsonAsync(url, new { priority = "high" }, Ct), HttpStatusCode.OK);
        Assert.Equal(TorrentPriority.High, view.Priority);
        Assert.Equal(TorrentPriority.High, (await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash && s.Revision == 2)).Priority);

        await IsProblemAsync(await user.PutAsJsonAsync(url, new { priority = "extreme" }, Ct), HttpStatusCode.BadRequest, "Invalid priority");
        await IsProblemAsync(await user.PutAsJsonAsync(url, new { }, Ct), HttpStatusCode.BadRequest, "Invalid priority");
        await IsProblemAsync(await user.PutAsJsonAsync($"/api/torrents/{new string('b', 40)}/priority", new { priority = "low" }, Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task SetFilePriorities_ValidAndInvalid()
    {
        var user = await _host.UserAsync();
        var torrent = TestTorrents.Multi(Unique("files"), ("a.bin", 100), ("b.bin", 100), ("c.bin", 100));
        await UploadAsync(user, torrent.Bytes);
        var url = $"/api/torrents/{torrent.InfoHash}/files";
        var view = await IsAsync<TorrentView>(await user.PutAsJsonAsync(url, new { files = new object[] { new { index = 0, priority = "skip" }, new { index = 2, priority = "high" } } }, Ct), HttpStatusCode.OK);
        Assert.Equal([FilePriority.Skip, FilePriority.Normal, FilePriority.High], view.Files.Select(f => f.Priority));
        var spec = await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash && s.Revision == 2);
        Assert.Equal([FilePriority.Skip, FilePriority.Normal, FilePriority.High], spec.FilePriorities);

        await IsProblemAsync(await user.PutAsJsonAsync(url, new { files = new[] { new { index = 3, priority = "high" } } }, Ct), HttpStatusCode.BadRequest, "Invalid request");
        await IsProblemAsync(await user.PutAsJsonAsync(url, new { files = new[] { new { index = -1, priority = "high" } } }, Ct), HttpStatusCode.BadRequest, "Invalid file index");
        await IsProblemAsync(await user.PutAsJsonAsync(url, new { files = new[] { new { index = 0, priority = "maximum" } } }, Ct), HttpStatusCode.BadRequest, "Invalid file priority");
        await IsProblemAsync(await user.PutAsJsonAsync(url, new { files = Array.Empty<object>() }, Ct), HttpStatusCode.BadRequest, "Invalid file priorities");
    }

    [Fact]
    public async Task Remove_BadDeleteDataOrUnknown_Problems()
    {
        var user = await _host.UserAsync();
        var torrent = TestTorrents.Single(Unique("rm"));
        await UploadAsync(user, torrent.Bytes);
        await IsProblemAsync(await user.DeleteAsync($"/api/torrents/{torrent.InfoHash}?deleteData=maybe", Ct), HttpStatusCode.BadRequest, "Invalid deleteData");
        await IsProblemAsync(await user.DeleteAsync($"/api/torrents/{new string('c', 40)}", Ct), HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NoContent, (await user.DeleteAsync($"/api/torrents/{torrent.InfoHash}?deleteData=false", Ct)).StatusCode);
        var spec = await _host.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash && s.Removed);
        Assert.False(spec.DeleteData);
        await IsProblemAsync(await user.DeleteAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Metainfo_ReturnsUploadedBytes()
    {
        var user = await _host.UserAsync();
        var torrent = TestTorrents.Single(Unique("meta"));
        await UploadAsync(user, torrent.Bytes);
        var response = await user.GetAsync($"/api/torrents/{torrent.InfoHash}/metainfo", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-bittorrent", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(torrent.Bytes, await response.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task Status_FromTorrentEventsOnKafka_ShownByGetAndList()
    {
        var user = await _host.UserAsync();
        var slow = TestTorrents.Multi(Unique("slow"), ("a.bin", 20_000), ("b.bin", 20_000));
        var fast = TestTorrents.Single(Unique("fast"));
        await UploadAsync(user, slow.Bytes);
        await UploadAsync(user, fast.Bytes);

        // What a PeerWorker does: publish to torrent-events keyed by info-hash (over the embedded Kafka).
        var events = _host.CatalogServices.GetRequiredService<TorrentEdge.ServiceDefaults.Messaging.IIntegrationEventPublisher>();
        await events.PublishAsync(TorrentEdge.Contracts.Topics.TorrentEvents, slow.InfoHash,
            new TorrentProgressed(slow.InfoHash, [], TorrentState.Downloading, 0.25, 10_000, 40_000, 10_000, 2_000, 5_000, 700, 2, 3, 6,
                [new FileProgress($"{slow.Name}/a.bin", 20_000, 10_000, FilePriority.Normal), new FileProgress($"{slow.Name}/b.bin", 20_000, 0, FilePriority.Normal)],
                [new TrackerStatus("http://tracker.example/announce", "working", 4, 9, null)]), Ct);
        await events.PublishAsync(TorrentEdge.Contracts.Topics.TorrentEvents, fast.InfoHash,
            new TorrentProgressed(fast.InfoHash, [], TorrentState.Downloading, 0.75, 30_000, 40_000, 30_000, 0, 9_000, 0, 1, 1, 1, [], []), Ct);
        await events.PublishAsync(TorrentEdge.Contracts.Topics.TorrentEvents, fast.InfoHash,
            new TorrentFailed(fast.InfoHash, [], "disk full"), Ct);

        var view = await PollAsync(slow.InfoHash, v => v.Progress == 0.25);
        Assert.Equal(TorrentState.Downloading, view.State);
        Assert.Equal((5_000, 700, 2, 3, 6L), (view.DownloadRate, view.UploadRate, view.PeersConnected, view.PeersTotal, view.EtaSeconds!.Value));
        Assert.Equal([0.5, 0.0], view.Files.Select(f => f.Progress));
        var tracker = Assert.Single(view.Trackers);
        Assert.Equal(("working", 4, 9), (tracker.Health, tracker.Seeders, tracker.Leechers));
        Assert.NotNull(view.StatusUpdatedAt);

        var failed = await PollAsync(fast.InfoHash, v => v.Error is not null);
        Assert.Equal("disk full", failed.Error);

        var byProgress = await IsAsync<TorrentListView>(await user.GetAsync("/api/torrents?sort=progress&order=desc", Ct), HttpStatusCode.OK);
        Assert.Equal([fast.InfoHash, slow.InfoHash], byProgress.Items.Select(t => t.InfoHash));
        var byRate = await IsAsync<TorrentListView>(await user.GetAsync("/api/torrents?sort=rate&order=asc", Ct), HttpStatusCode.OK);
        Assert.Equal([slow.InfoHash, fast.InfoHash], byRate.Items.Select(t => t.InfoHash));

        async Task<TorrentView> PollAsync(string hash, Func<TorrentView, bool> done)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (true)
            {
                var current = await IsAsync<TorrentView>(await user.GetAsync($"/api/torrents/{hash}", Ct), HttpStatusCode.OK);
                if (done(current))
                {
                    return current;
                }
                await Task.Delay(100, timeout.Token);
            }
        }
    }

    [Fact]
    public async Task ApiToken_CanAddTorrents()
    {
        var user = await _host.UserAsync();
        var created = await IsAsync<CreatedApiToken>(await user.PostAsJsonAsync("/api/auth/tokens", new { name = "arr" }, Ct), HttpStatusCode.Created);
        var script = _host.CreateApiClient();
        script.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created.Token);
        var torrent = TestTorrents.Single(Unique("script"));
        await IsAsync<TorrentView>(await UploadAsync(script, torrent.Bytes), HttpStatusCode.Created);
        await IsAsync<TorrentView>(await user.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.OK);
    }
}

/// <summary>The TorrentsApi cases against Catalog itself.</summary>
public sealed class TorrentsApiTests(CatalogFactory factory) : TorrentsApiCases(factory), IClassFixture<CatalogFactory>;

/// <summary>The TorrentsApi cases through the real Gateway in front of a real Catalog.</summary>
public sealed class TorrentsApiThroughGatewayTests(GatewayCatalogFixture fixture) : TorrentsApiCases(fixture), IClassFixture<GatewayCatalogFixture>;

/// <summary>The TorrentsApi cases through the real Gateway in front of Catalog on MongoDB (skipped without a server).</summary>
public sealed class TorrentsApiThroughGatewayOnMongoTests(MongoGatewayCatalogFixture fixture) : TorrentsApiCases(fixture), IClassFixture<MongoGatewayCatalogFixture>;
