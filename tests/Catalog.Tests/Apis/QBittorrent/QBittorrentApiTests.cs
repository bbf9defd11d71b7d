using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using TorrentEdge.Catalog.Apis;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.Model;
using TorrentEdge.Catalog.Tests.ThroughGateway;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Tests.Apis.QBittorrent;

/// <summary>qBittorrent's Web API v2 through the real Gateway, as Sonarr and qBittorrent's other clients use it.</summary>
public sealed class QBittorrentApiTests(GatewayCatalogFixture fixture) : IClassFixture<GatewayCatalogFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(string Name, HttpClient Api)> NewUserAsync()
    {
        var name = "qbt" + Guid.NewGuid().ToString("N")[..8];
        return (name, await fixture.UserAsync(name));
    }

    private SonarrQBittorrent Sonarr(string name, string? password = null, string category = "tv-sonarr") =>
        new(fixture.GatewayAddress, name, password ?? CatalogFactory.Password, category);

    private static string Magnet(TestTorrents.TestTorrent t) =>
        $"magnet:?xt=urn:btih:{t.InfoHash}&dn={t.Name}&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce";

    /// <summary>What a worker would report (through torrent-events and Catalog's projection): complete and seeding.</summary>
    private async Task ReportSeedingAsync(string hash, long bytes, long uploadRate = 0)
    {
        var store = fixture.CatalogServices.GetRequiredService<ICatalogStore>();
        Assert.True(await store.UpdateStatusAsync(hash, new TorrentStatus
        {
            State = TorrentState.Seeding, Progress = 1, VerifiedBytes = bytes, DownloadedBytes = bytes, UploadedBytes = bytes / 2,
            UploadRate = uploadRate, UpdatedAt = DateTimeOffset.UtcNow, FileVerifiedBytes = [bytes],
        }, Ct));
    }

    [Fact]
    public async Task SonarrSequence_TestGrabPollImportRemove_RepliesParseAsSonarrExpects()
    {
        var (name, rest) = await NewUserAsync();
        var sonarr = Sonarr(name);

        // Test(): probe, version, preferences, categories (created when missing), torrents.
        Assert.Equal(HttpStatusCode.OK, await sonarr.IsApiSupportedAsync());
        var version = await sonarr.GetApiVersionAsync();
        Assert.Equal(new Version(2, 11, 4), version);
        Assert.Equal("5.1.4", await sonarr.GetVersionAsync());
        var config = await sonarr.GetConfigAsync();
        Assert.Equal(JsonValueKind.String, config.GetProperty("save_path").ValueKind);
        Assert.False(config.GetProperty("max_ratio_enabled").GetBoolean());
        Assert.True(config.GetProperty("queueing_enabled").GetBoolean());
        Assert.Equal(JsonValueKind.False, config.GetProperty("dht").ValueKind);
        Assert.Equal(0, config.GetProperty("max_ratio_act").GetInt32());
        Assert.False((await sonarr.GetLabelsAsync()).TryGetProperty("tv-sonarr", out _));
        await sonarr.AddLabelAsync("tv-sonarr");
        await sonarr.AddLabelAsync("tv-imported");
        var labels = await sonarr.GetLabelsAsync();
        Assert.Equal("tv-sonarr", labels.GetProperty("tv-sonarr").GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.String, labels.GetProperty("tv-sonarr").GetProperty("savePath").ValueKind);
        Assert.Equal(0, (await sonarr.GetTorrentsAsync()).GetArrayLength());

        // Grab by magnet (with a tracker: DHT is off) with seed limits, then the follow-ups that wait for the torrent.
        var byMagnet = TestTorrents.Single("episode-m-" + Guid.NewGuid().ToString("N")[..6]);
        Assert.Equal("Ok.", await sonarr.AddAsync(Magnet(byMagnet), null, ratio: 1.5, seedTime: TimeSpan.FromMinutes(90)));
        Assert.True(await sonarr.WaitForTorrentAsync(byMagnet.InfoHash.ToUpperInvariant()));
        Assert.True(await sonarr.MoveToTopAsync(byMagnet.InfoHash));
        await sonarr.SetForceStartAsync(byMagnet.InfoHash);
        await sonarr.AddTagsAsync(byMagnet.InfoHash, "anime", "hd");

        // Grab by file.
        var byFile = TestTorrents.Single("episode-f-" + Guid.NewGuid().ToString("N")[..6]);
        Assert.Equal("Ok.", await sonarr.AddAsync(null, (byFile.Name + ".torrent", byFile.Bytes)));

        // Poll: both listed under the category with Sonarr's fields, types and sentinels.
        var torrents = (await sonarr.GetTorrentsAsync()).EnumerateArray().ToDictionary(t => t.GetProperty("hash").GetString()!);
        Assert.Equal(new[] { byFile.InfoHash, byMagnet.InfoHash }.Order(), torrents.Keys.Order());
        foreach (var t in torrents.Values)
        {
            SonarrQBittorrent.AssertParsesAsSonarr(t);
            Assert.Equal("tv-sonarr", t.GetProperty("category").GetString());
        }
        var magnetItem = torrents[byMagnet.InfoHash];
        Assert.Equal("forcedMetaDL", magnetItem.GetProperty("state").GetString());
        Assert.Equal(8_640_000, magnetItem.GetProperty("eta").GetInt64());
        Assert.Equal(1.5, magnetItem.GetProperty("ratio_limit").GetDouble());
        Assert.Equal(90, magnetItem.GetProperty("seeding_time_limit").GetInt64());
        Assert.Equal("anime, hd", magnetItem.GetProperty("tags").GetString());
        Assert.True(magnetItem.GetProperty("force_start").GetBoolean());
        var fileItem = torrents[byFile.InfoHash];
        Assert.Equal("queuedDL", fileItem.GetProperty("state").GetString());
        Assert.Equal(-2, fileItem.GetProperty("ratio_limit").GetDouble());
        Assert.Equal(-2, fileItem.GetProperty("seeding_time_limit").GetInt64());
        Assert.Equal(40_000, fileItem.GetProperty("size").GetInt64());
        Assert.Equal(0, fileItem.GetProperty("progress").GetDouble());

        // A worker reports the file's torrent complete: a seeding state Sonarr counts as completed, progress 1, and a
        // content path apart from the save path (else Sonarr warns that it cannot tell where the download is).
        await ReportSeedingAsync(byFile.InfoHash, 40_000);
        fileItem = (await sonarr.GetTorrentsAsync()).EnumerateArray().Single(t => t.GetProperty("hash").GetString() == byFile.InfoHash);
        Assert.Equal("stalledUP", fileItem.GetProperty("state").GetString());
        Assert.Equal(1, fileItem.GetProperty("progress").GetDouble());
        Assert.Equal(8_640_000, fileItem.GetProperty("eta").GetInt64());
        var savePath = fileItem.GetProperty("save_path").GetString()!;
        var contentPath = fileItem.GetProperty("content_path").GetString()!;
        Assert.NotEqual(savePath, contentPath);
        Assert.EndsWith("/" + byFile.InfoHash, savePath);
        Assert.Equal(savePath + "/" + byFile.Name, contentPath);
        Assert.Equal(0.5, fileItem.GetProperty("ratio").GetDouble());

        // Import: the post-import category; the torrent leaves Sonarr's category filter.
        await sonarr.SetLabelAsync(byFile.InfoHash, "tv-imported");
        Assert.DoesNotContain(byFile.InfoHash, (await sonarr.GetTorrentsAsync()).EnumerateArray().Select(t => t.GetProperty("hash").GetString()));
        // Our own REST API shows the same category and tags.
        var view = await ProblemAssert.IsAsync<TorrentView>(await rest.GetAsync($"/api/torrents/{byFile.InfoHash}", Ct), HttpStatusCode.OK);
        Assert.Equal("tv-imported", view.Category);
        var magnetView = await ProblemAssert.IsAsync<TorrentView>(await rest.GetAsync($"/api/torrents/{byMagnet.InfoHash}", Ct), HttpStatusCode.OK);
        Assert.Equal(["anime", "hd"], magnetView.Tags);
        Assert.Equal(["tv-imported", "tv-sonarr"], (await rest.GetFromJsonAsync<string[]>("/api/categories", Ct))!.Order());
        Assert.Equal(["anime", "hd"], (await rest.GetFromJsonAsync<string[]>("/api/tags", Ct))!.Order());

        // Remove with data: gone from qBittorrent's list and from the registry, the spec says delete the data.
        await sonarr.RemoveAsync(byFile.InfoHash, deleteData: true);
        await sonarr.RemoveAsync(byMagnet.InfoHash, deleteData: false);
        Assert.Equal(0, (await sonarr.GetTorrentsAsync()).GetArrayLength());
        await ProblemAssert.IsProblemAsync(await rest.GetAsync($"/api/torrents/{byFile.InfoHash}", Ct), HttpStatusCode.NotFound);
        var spec = await fixture.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == byFile.InfoHash && s.Removed);
        Assert.True(spec.DeleteData);
    }

    [Fact]
    public async Task Login_SessionCookie_WorksWithoutOtherCredentialsAndEndsAtLogout()
    {
        var (name, _) = await NewUserAsync();
        var client = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = fixture.GatewayAddress };
        var login = await client.PostAsync("/api/v2/auth/login",
            new FormUrlEncodedContent([new("username", name), new("password", CatalogFactory.Password)]), Ct);
        Assert.Equal("Ok.", await login.Content.ReadAsStringAsync(Ct));
        var cookie = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("SID=", StringComparison.Ordinal));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        var sid = cookie.Split(';')[0];

        using var withCookie = new HttpRequestMessage(HttpMethod.Get, "/api/v2/app/version");
        withCookie.Headers.Add("Cookie", sid);
        var version = await client.SendAsync(withCookie, Ct);
        Assert.Equal(HttpStatusCode.OK, version.StatusCode);
        Assert.Equal("v5.1.4", await version.Content.ReadAsStringAsync(Ct));

        // The session is not a refresh token, though it is stored like one.
        var refresh = await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = sid["SID=".Length..] }, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);

        using var logout = new HttpRequestMessage(HttpMethod.Post, "/api/v2/auth/logout");
        logout.Headers.Add("Cookie", sid);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(logout, Ct)).StatusCode);
        using var after = new HttpRequestMessage(HttpMethod.Get, "/api/v2/app/version");
        after.Headers.Add("Cookie", sid);
        var refused = await client.SendAsync(after, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("Forbidden", await refused.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Auth_PersonalApiTokenAsBearer_Accepted()
    {
        var (_, rest) = await NewUserAsync();
        var created = await rest.PostAsJsonAsync("/api/auth/tokens", new { name = "sonarr" }, Ct);
        var token = (await created.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("token").GetString();
        var client = fixture.CreateApiClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await client.GetAsync("/api/v2/torrents/info", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("[]", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task BadCredentials_AnsweredAsQBittorrentDoes()
    {
        var (name, _) = await NewUserAsync();
        var client = fixture.CreateApiClient();
        var login = await client.PostAsync("/api/v2/auth/login",
            new FormUrlEncodedContent([new("username", name), new("password", "Wrong-password-1")]), Ct);
        Assert.Equal(HttpStatusCode.OK, login.StatusCode);
        Assert.Equal("Fails.", await login.Content.ReadAsStringAsync(Ct));
        Assert.False(login.Headers.Contains("Set-Cookie"));

        var anonymous = await client.GetAsync("/api/v2/torrents/info", Ct);
        Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);
        Assert.Equal("Forbidden", await anonymous.Content.ReadAsStringAsync(Ct));

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(name + ":Wrong-password-1")));
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/v2/app/webapiVersion", Ct)).StatusCode);
    }

    [Fact]
    public async Task BadInput_UnknownHashBadFormsOversizedUploads_AnsweredAsQBittorrentDoes()
    {
        var (name, _) = await NewUserAsync();
        var sonarr = Sonarr(name);
        await sonarr.LoginAsync();
        var unknown = new string('a', 40);

        async Task Expect(HttpStatusCode status, string body, HttpMethod method, string resource, Func<HttpContent?>? content = null)
        {
            var e = await Assert.ThrowsAsync<HttpRequestException>(() => sonarr.ProcessAsync(method, resource, content));
            Assert.Equal(status, e.StatusCode);
            Assert.EndsWith($"{(int)status} {body}", e.Message);
        }

        await Expect(HttpStatusCode.NotFound, "Not Found", HttpMethod.Get, $"/api/v2/torrents/properties?hash={unknown}");
        await Expect(HttpStatusCode.NotFound, "Not Found", HttpMethod.Get, $"/api/v2/torrents/files?hash={unknown}");
        await Expect(HttpStatusCode.BadRequest, "Bad Request", HttpMethod.Get, "/api/v2/torrents/properties");
        await Expect(HttpStatusCode.BadRequest, "Bad Request", HttpMethod.Post, "/api/v2/torrents/delete", () => new FormUrlEncodedContent([new("deleteFiles", "true")]));
        await Expect(HttpStatusCode.MethodNotAllowed, "Method Not Allowed", HttpMethod.Get, "/api/v2/torrents/delete");
        await Expect(HttpStatusCode.NotFound, "Not Found", HttpMethod.Get, "/api/v2/torrents/nonsense");
        await Expect(HttpStatusCode.Conflict, "Incorrect category name", HttpMethod.Post, "/api/v2/torrents/setCategory",
            () => new FormUrlEncodedContent([new("hashes", unknown), new("category", "never-created")]));
        await Expect(HttpStatusCode.BadRequest, "Category cannot be empty", HttpMethod.Post, "/api/v2/torrents/createCategory",
            () => new FormUrlEncodedContent([new("category", "")]));

        // Actions on hashes that are not the caller's are passed over, as qBittorrent passes over unknown hashes.
        Assert.Equal("", await sonarr.ProcessAsync(HttpMethod.Post, "/api/v2/torrents/stop", () => new FormUrlEncodedContent([new("hashes", unknown)])));

        // Not a torrent file: 415 with qBittorrent's message; too large: 413.
        await Expect(HttpStatusCode.UnsupportedMediaType, "Error: 'bad.torrent' is not a valid torrent file.", HttpMethod.Post, "/api/v2/torrents/add",
            () => new MultipartFormDataContent { { new ByteArrayContent("not bencode"u8.ToArray()), "torrents", "bad.torrent" } });
        await Expect(HttpStatusCode.RequestEntityTooLarge, "Payload Too Large", HttpMethod.Post, "/api/v2/torrents/add",
            () => new MultipartFormDataContent { { new ByteArrayContent(new byte[2 * 1024 * 1024]), "torrents", "big.torrent" } });
        // A URL that is not a magnet is not fetched: nothing added.
        Assert.Equal("Fails.", await sonarr.ProcessAsync(HttpMethod.Post, "/api/v2/torrents/add",
            () => new FormUrlEncodedContent([new("urls", "http://127.0.0.1:1/x.torrent")])));

        var torrent = TestTorrents.Single("bad-input-" + Guid.NewGuid().ToString("N")[..6]);
        Assert.Equal("Ok.", await sonarr.AddAsync(null, ("t.torrent", torrent.Bytes)));
        // The same torrent again: qBittorrent says Fails. for a duplicate.
        Assert.Equal("Fails.", await sonarr.AddAsync(null, ("t.torrent", torrent.Bytes)));
        await Expect(HttpStatusCode.BadRequest, "'sort' parameter is invalid", HttpMethod.Get, "/api/v2/torrents/info?sort=nonsense");
        await Expect(HttpStatusCode.BadRequest, "Priority is not valid", HttpMethod.Post, "/api/v2/torrents/filePrio",
            () => new FormUrlEncodedContent([new("hash", torrent.InfoHash), new("id", "0"), new("priority", "3")]));
        await Expect(HttpStatusCode.Conflict, "File ID is not valid", HttpMethod.Post, "/api/v2/torrents/filePrio",
            () => new FormUrlEncodedContent([new("hash", torrent.InfoHash), new("id", "5"), new("priority", "0")]));
        await Expect(HttpStatusCode.Conflict, "\"x\" is not a valid file index.", HttpMethod.Get, $"/api/v2/torrents/files?hash={torrent.InfoHash}&indexes=x");

        // Queueing off (a user's preference): topPrio is 409, which Sonarr tolerates.
        await sonarr.ProcessAsync(HttpMethod.Post, "/api/v2/app/setPreferences", () => new FormUrlEncodedContent([new("json", "{\"queueing_enabled\":false,\"save_path\":\"/etc\"}")]));
        var preferences = await sonarr.GetConfigAsync();
        Assert.False(preferences.GetProperty("queueing_enabled").GetBoolean());
        Assert.NotEqual("/etc", preferences.GetProperty("save_path").GetString());
        await Expect(HttpStatusCode.Conflict, "Torrent queueing must be enabled", HttpMethod.Post, "/api/v2/torrents/topPrio",
            () => new FormUrlEncodedContent([new("hashes", torrent.InfoHash)]));
        Assert.False(await sonarr.MoveToTopAsync(torrent.InfoHash));
    }

    [Fact]
    public async Task Controls_BothVerbGenerationsFilePriorityShareLimits_ChangeDesiredStateAndLabels()
    {
        var (name, rest) = await NewUserAsync();
        var sonarr = Sonarr(name);
        var torrent = TestTorrents.Multi("controls-" + Guid.NewGuid().ToString("N")[..6], ("a.bin", 20_000), ("b.bin", 30_000));
        Assert.Equal("Ok.", await sonarr.AddAsync(null, ("c.torrent", torrent.Bytes)));
        FormUrlEncodedContent Hashes(params KeyValuePair<string, string>[] more) => new([new("hashes", torrent.InfoHash), .. more]);

        async Task<TorrentView> View() => await ProblemAssert.IsAsync<TorrentView>(await rest.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.OK);

        await sonarr.ProcessAsync(HttpMethod.Post, "/api/v2/torrents/stop", () => Hashes());
        Assert.True((await View()).Paused);
        Assert.Equal("stoppedDL", await StateAsync(sonarr, torrent.InfoHash));
        await sonarr.ProcessAsync(HttpMethod.Post, "/api/v2/torrents/start", () => Hashes());
        Assert.False((await View()).Paused);
        // qBittorrent 4's verbs.
        await sonarr.ProcessAsync(HttpMethod.Post, "/api/v2/torrents/pause", () => Hashes());
        Assert.True((await View()).Paused);
        await sonarr.ProcessAsync(HttpMethod.Post, "/api/v2/torrents/resume", () => new FormUrlEncodedContent([new("hashes", "all")]));
        Assert.False((await View()).Paused);

        await sonarr.ProcessAsync(HttpMethod.Post, "/api/v2/torrents/filePrio", () => new FormUrlEncodedContent([new("hash", torrent.InfoHash), new("id", "1"), new("priority", "0")]));
        var files = JsonDocument.Parse(await sonarr.ProcessAsync(HttpMethod.Get, $"/api/v2/torrents/files?hash={torrent.InfoHash}")).RootElement;
        Assert.Equal([1, 0], files.EnumerateArray().Select(f => f.GetProperty("priority").GetInt32()));
        Assert.Equal(torrent.Name + "/b.bin", files[1].GetProperty("name").GetString());
        Assert.Equal(FilePriority.Skip, (await View()).Files[1].Priority);
        var info = JsonDocument.Parse(await sonarr.ProcessAsync(HttpMethod.Get, $"/api/v2/torrents/info?hashes={torrent.InfoHash}")).RootElement[0];
        Assert.Equal(20_000, info.GetProperty("size").GetInt64());

        await sonarr.ProcessAsync(HttpMethod.Post, "/api/v2/torrents/topPrio", () => Hashes());
        Assert.Equal(TorrentPriority.High, (await View()).Priority);
        await sonarr.ProcessAsync(HttpMethod.Post, "/api/v2/torrents/bottomPrio", () => Hashes());
        Assert.Equal(TorrentPriority.Low, (await View()).Priority);

        await sonarr.ProcessAsync(HttpMethod.Post, "/api/v2/torrents/setShareLimits", () => Hashes(new("ratioLimit", "-1"), new("seedingTimeLimit", "120"), new("inactiveSeedingTimeLimit", "-2")));
        info = JsonDocument.Parse(await sonarr.ProcessAsync(HttpMethod.Get, $"/api/v2/torrents/info?hashes={torrent.InfoHash}")).RootElement[0];
        Assert.Equal(-1, info.GetProperty("ratio_limit").GetDouble());
        Assert.Equal(120, info.GetProperty("seeding_time_limit").GetInt64());

        var before = fixture.Publisher.Published.Count;
        await sonarr.ProcessAsync(HttpMethod.Post, "/api/v2/torrents/recheck", () => Hashes());
        var recheck = await fixture.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash && s.RecheckGeneration == 1);
        Assert.Equal(1, recheck.RecheckGeneration);
        Assert.True(fixture.Publisher.Published.Count > before);

        // Filters.
        Assert.Equal(1, JsonDocument.Parse(await sonarr.ProcessAsync(HttpMethod.Get, "/api/v2/torrents/info?filter=downloading")).RootElement.GetArrayLength());
        Assert.Equal(0, JsonDocument.Parse(await sonarr.ProcessAsync(HttpMethod.Get, "/api/v2/torrents/info?filter=completed")).RootElement.GetArrayLength());
        Assert.Equal(1, JsonDocument.Parse(await sonarr.ProcessAsync(HttpMethod.Get, "/api/v2/torrents/info?tag=")).RootElement.GetArrayLength());
    }

    private static async Task<string?> StateAsync(SonarrQBittorrent client, string hash) =>
        JsonDocument.Parse(await client.ProcessAsync(HttpMethod.Get, $"/api/v2/torrents/info?hashes={hash}")).RootElement[0].GetProperty("state").GetString();

    [Fact]
    public async Task Isolation_TwoUsers_NeverSeeOrSteerEachOthersTorrents()
    {
        var (alice, _) = await NewUserAsync();
        var (bob, bobRest) = await NewUserAsync();
        var a = Sonarr(alice);
        var b = Sonarr(bob);
        var torrent = TestTorrents.Single("alice-only-" + Guid.NewGuid().ToString("N")[..6]);
        Assert.Equal("Ok.", await a.AddAsync(null, ("a.torrent", torrent.Bytes)));
        await a.AddTagsAsync(torrent.InfoHash, "secret");

        Assert.Equal("[]", await b.ProcessAsync(HttpMethod.Get, "/api/v2/torrents/info"));
        Assert.Equal("[]", await b.ProcessAsync(HttpMethod.Get, "/api/v2/torrents/tags"));
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => b.ProcessAsync(HttpMethod.Get, $"/api/v2/torrents/properties?hash={torrent.InfoHash}"));
        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
        await b.ProcessAsync(HttpMethod.Post, "/api/v2/torrents/stop", () => new FormUrlEncodedContent([new("hashes", "all")]));
        await b.RemoveAsync(torrent.InfoHash, deleteData: true);
        var sync = JsonDocument.Parse(await b.ProcessAsync(HttpMethod.Get, "/api/v2/sync/maindata?rid=0")).RootElement;
        Assert.Empty(sync.GetProperty("torrents").EnumerateObject());
        await ProblemAssert.IsProblemAsync(await bobRest.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.NotFound);

        var mine = JsonDocument.Parse(await a.ProcessAsync(HttpMethod.Get, "/api/v2/torrents/info")).RootElement;
        var item = Assert.Single(mine.EnumerateArray());
        Assert.Equal("queuedDL", item.GetProperty("state").GetString());
        Assert.Equal("secret", item.GetProperty("tags").GetString());
    }

    [Fact]
    public async Task SyncMainData_RidIncrements_FullThenOnlyChanges()
    {
        var (name, _) = await NewUserAsync();
        var client = Sonarr(name);
        var first = JsonDocument.Parse(await client.ProcessAsync(HttpMethod.Get, "/api/v2/sync/maindata?rid=0")).RootElement;
        Assert.True(first.GetProperty("full_update").GetBoolean());
        var rid = first.GetProperty("rid").GetInt64();
        Assert.True(rid > 0);
        Assert.True(first.TryGetProperty("server_state", out _));

        var torrent = TestTorrents.Single("sync-" + Guid.NewGuid().ToString("N")[..6]);
        Assert.Equal("Ok.", await client.AddAsync(null, ("s.torrent", torrent.Bytes)));
        var second = JsonDocument.Parse(await client.ProcessAsync(HttpMethod.Get, $"/api/v2/sync/maindata?rid={rid}")).RootElement;
        Assert.False(second.TryGetProperty("full_update", out _));
        Assert.True(second.GetProperty("rid").GetInt64() > rid);
        var added = second.GetProperty("torrents").GetProperty(torrent.InfoHash);
        Assert.Equal("queuedDL", added.GetProperty("state").GetString());
        Assert.Equal("tv-sonarr", added.GetProperty("category").GetString());
        Assert.Equal("tv-sonarr", Assert.Single(second.GetProperty("categories").EnumerateObject()).Name);

        // Nothing changed but the clock: no torrents key, or only the fields that moved.
        var third = JsonDocument.Parse(await client.ProcessAsync(HttpMethod.Get, $"/api/v2/sync/maindata?rid={second.GetProperty("rid").GetInt64()}")).RootElement;
        if (third.TryGetProperty("torrents", out var changed))
        {
            foreach (var t in changed.EnumerateObject())
            {
                Assert.DoesNotContain(t.Value.EnumerateObject(), p => p.Name is "state" or "name" or "category");
            }
        }
        await client.ProcessAsync(HttpMethod.Post, "/api/v2/torrents/stop", () => new FormUrlEncodedContent([new("hashes", torrent.InfoHash)]));
        var fourth = JsonDocument.Parse(await client.ProcessAsync(HttpMethod.Get, $"/api/v2/sync/maindata?rid={third.GetProperty("rid").GetInt64()}")).RootElement;
        Assert.Equal("stoppedDL", fourth.GetProperty("torrents").GetProperty(torrent.InfoHash).GetProperty("state").GetString());

        await client.RemoveAsync(torrent.InfoHash, deleteData: false);
        var fifth = JsonDocument.Parse(await client.ProcessAsync(HttpMethod.Get, $"/api/v2/sync/maindata?rid={fourth.GetProperty("rid").GetInt64()}")).RootElement;
        Assert.Equal(torrent.InfoHash, Assert.Single(fifth.GetProperty("torrents_removed").EnumerateArray()).GetString());
    }
}
