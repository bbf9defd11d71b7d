using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using TorrentEdge.Catalog.Apis;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.Model;
using TorrentEdge.Catalog.Tests.ThroughGateway;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Tests.Apis.Transmission;

/// <summary>Transmission's RPC through the real Gateway, as Sonarr and Transmission's other clients use it.</summary>
public sealed class TransmissionRpcTests(GatewayCatalogFixture fixture) : IClassFixture<GatewayCatalogFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<(string Name, HttpClient Api)> NewUserAsync()
    {
        var name = "tr" + Guid.NewGuid().ToString("N")[..8];
        return (name, await fixture.UserAsync(name));
    }

    private SonarrTransmission Sonarr(string name, string? password = null) => new(fixture.GatewayAddress, name, password ?? CatalogFactory.Password);

    private HttpClient Basic(string name, string password)
    {
        var client = fixture.CreateApiClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{name}:{password}")));
        return client;
    }

    [Fact]
    public async Task SonarrSequence_TestGrabPollImportRemove_RepliesParseAsSonarrExpects()
    {
        var (name, rest) = await NewUserAsync();
        var sonarr = Sonarr(name);

        // Test(): the version (through the session-id handshake), then the torrents.
        var config = await sonarr.GetConfigAsync();
        Assert.Equal(1, sonarr.Handshakes);
        Assert.True(SonarrTransmission.ParseVersion((string)config["version"]!) >= new Version(4, 0), "labels need 4.0 in Sonarr");
        Assert.Equal(19, (int)config["rpc-version"]!);
        var downloadDir = (string)config["download-dir"]!;
        Assert.StartsWith("/", downloadDir);
        Assert.Empty(await sonarr.GetTorrentsAsync());

        // Grab by magnet and by file, each followed by the seeding configuration and a move to the top.
        var byMagnet = TestTorrents.Single("tr-m-" + Guid.NewGuid().ToString("N")[..6]);
        await sonarr.AddFromUrlAsync($"magnet:?xt=urn:btih:{byMagnet.InfoHash}&dn={byMagnet.Name}&tr=http%3A%2F%2F127.0.0.1%3A1%2Fannounce");
        await sonarr.SetSeedingAsync(byMagnet.InfoHash, 2.5, 60);
        await sonarr.MoveToTopAsync(byMagnet.InfoHash);
        var byFile = TestTorrents.Single("tr-f-" + Guid.NewGuid().ToString("N")[..6]);
        await sonarr.AddFromDataAsync(byFile.Bytes);
        await sonarr.SetSeedingAsync(byFile.InfoHash, 1.0, 30);

        // Poll: every field Sonarr reads, with its types; labels carry the category.
        var torrents = (await sonarr.GetTorrentsAsync()).Select(t => t!.AsObject()).ToDictionary(t => (string)t["hashString"]!);
        Assert.Equal(new[] { byFile.InfoHash, byMagnet.InfoHash }.Order(), torrents.Keys.Order());
        foreach (var t in torrents.Values)
        {
            SonarrTransmission.AssertParsesAsSonarr(t);
            Assert.Equal(["tv-sonarr"], t["labels"]!.AsArray().Select(l => (string)l!));
            Assert.Equal(1, (int)t["seedRatioMode"]!);
            Assert.Equal(1, (int)t["seedIdleMode"]!);
        }
        var magnet = torrents[byMagnet.InfoHash];
        Assert.Equal(4, (int)magnet["status"]!);
        Assert.Equal(-2, (long)magnet["eta"]!);
        Assert.Equal(2.5, (double)magnet["seedRatioLimit"]!);
        Assert.Equal(60, (long)magnet["seedIdleLimit"]!);
        Assert.Equal(0, (long)magnet["totalSize"]!);
        var file = torrents[byFile.InfoHash];
        Assert.Equal(3, (int)file["status"]!);
        Assert.Equal(-1, (long)file["eta"]!);
        Assert.Equal(40_000, (long)file["leftUntilDone"]!);
        Assert.Equal(1, (int)file["fileCount"]!);
        Assert.StartsWith(downloadDir + "/", (string)file["downloadDir"]!);
        Assert.Equal(TorrentPriority.High, (await ProblemAssert.IsAsync<TorrentView>(await rest.GetAsync($"/api/torrents/{byMagnet.InfoHash}", Ct), HttpStatusCode.OK)).Priority);

        // A worker reports the file's torrent seeding: Sonarr's "completed" (leftUntilDone 0, status 6); eta -1.
        var store = fixture.CatalogServices.GetRequiredService<ICatalogStore>();
        await store.UpdateStatusAsync(byFile.InfoHash, new TorrentStatus
        {
            State = TorrentState.Seeding, Progress = 1, VerifiedBytes = 40_000, DownloadedBytes = 40_000, UploadedBytes = 10_000,
            UpdatedAt = DateTimeOffset.UtcNow,
        }, Ct);
        file = (await sonarr.GetTorrentsAsync([byFile.InfoHash])).Single()!.AsObject();
        Assert.Equal(0, (long)file["leftUntilDone"]!);
        Assert.Equal(6, (int)file["status"]!);
        Assert.Equal(-1, (long)file["eta"]!);
        Assert.Equal(10_000, (long)file["uploadedEver"]!);
        Assert.False((bool)file["isFinished"]!);

        // Import: Sonarr reads the torrent's labels and swaps the category for the post-import one.
        var labels = file["labels"]!.AsArray().Select(l => (string)l!).ToHashSet(StringComparer.InvariantCultureIgnoreCase);
        labels.Add("tv-imported");
        labels.Remove("tv-sonarr");
        await sonarr.SetLabelsAsync(byFile.InfoHash, labels);
        Assert.Equal(["tv-imported"], (await sonarr.GetTorrentsAsync([byFile.InfoHash])).Single()!["labels"]!.AsArray().Select(l => (string)l!));
        Assert.Equal(["tv-imported"], (await ProblemAssert.IsAsync<TorrentView>(await rest.GetAsync($"/api/torrents/{byFile.InfoHash}", Ct), HttpStatusCode.OK)).Tags);

        // Remove with data.
        await sonarr.RemoveAsync(byFile.InfoHash, deleteData: true);
        Assert.Equal([byMagnet.InfoHash], (await sonarr.GetTorrentsAsync()).Select(t => (string)t!["hashString"]!));
        var spec = await fixture.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == byFile.InfoHash && s.Removed);
        Assert.True(spec.DeleteData);
        Assert.Equal(1, sonarr.Handshakes);
    }

    [Fact]
    public async Task SessionId_MissingOrStale_409WithIdThenAccepted()
    {
        var (name, _) = await NewUserAsync();
        var client = Basic(name, CatalogFactory.Password);
        var body = new StringContent("{\"method\":\"session-get\"}", Encoding.UTF8, "application/json");
        var first = await client.PostAsync("/transmission/rpc", body, Ct);
        Assert.Equal(HttpStatusCode.Conflict, first.StatusCode);
        var id = Assert.Single(first.Headers.GetValues("X-Transmission-Session-Id"));
        Assert.Equal("6.0.1", Assert.Single(first.Headers.GetValues("X-Transmission-Rpc-Version")));
        Assert.Contains("<h1>409: Conflict</h1>", await first.Content.ReadAsStringAsync(Ct));
        Assert.Contains(id, await first.Content.ReadAsStringAsync(Ct));

        var stale = new HttpRequestMessage(HttpMethod.Post, "/transmission/rpc") { Content = new StringContent("{\"method\":\"session-get\"}") };
        stale.Headers.Add("X-Transmission-Session-Id", "0123456789abcdef0123456789abcdef");
        Assert.Equal(HttpStatusCode.Conflict, (await client.SendAsync(stale, Ct)).StatusCode);

        var good = new HttpRequestMessage(HttpMethod.Post, "/transmission/rpc") { Content = new StringContent("{\"method\":\"session-get\",\"tag\":7}") };
        good.Headers.Add("X-Transmission-Session-Id", id);
        var answer = JsonNode.Parse(await (await client.SendAsync(good, Ct)).Content.ReadAsStringAsync(Ct))!;
        Assert.Equal("success", (string?)answer["result"]);
        Assert.Equal(7, (int)answer["tag"]!);
        Assert.Equal(id, (string?)answer["arguments"]!["session-id"]);

        // Sonarr's way through a stale id: the 409 of a POST renews it and the call is repeated once.
        var sonarr = Sonarr(name);
        sonarr.ForgetSession("stale-stale-stale-stale-stale-00");
        Assert.Equal(19, (int)(await sonarr.GetConfigAsync())["rpc-version"]!);
        Assert.Equal(1, sonarr.Handshakes);
    }

    [Fact]
    public async Task JsonRpc2SnakeCase_TorrentAddAndGet_AnsweredInTheSameSpelling()
    {
        var (name, _) = await NewUserAsync();
        var client = Basic(name, CatalogFactory.Password);
        var handshake = await client.PostAsync("/transmission/rpc", new StringContent("{}"), Ct);
        client.DefaultRequestHeaders.Add("X-Transmission-Session-Id", handshake.Headers.GetValues("X-Transmission-Session-Id").Single());
        var torrent = TestTorrents.Single("rpc2-" + Guid.NewGuid().ToString("N")[..6]);

        async Task<JsonNode> Call(object request) =>
            JsonNode.Parse(await (await client.PostAsJsonAsync("/transmission/rpc", request, Ct)).Content.ReadAsStringAsync(Ct))!;

        var added = await Call(new { jsonrpc = "2.0", method = "torrent_add", @params = new { metainfo = Convert.ToBase64String(torrent.Bytes), labels = new[] { "movies" }, paused = true }, id = 1 });
        Assert.Equal("2.0", (string?)added["jsonrpc"]);
        Assert.Equal(1, (int)added["id"]!);
        Assert.Equal(torrent.InfoHash, (string?)added["result"]!["torrent_added"]!["hash_string"]);
        var duplicate = await Call(new { jsonrpc = "2.0", method = "torrent_add", @params = new { metainfo = Convert.ToBase64String(torrent.Bytes) }, id = 2 });
        Assert.Equal(torrent.InfoHash, (string?)duplicate["result"]!["torrent_duplicate"]!["hash_string"]);

        var got = await Call(new { jsonrpc = "2.0", method = "torrent_get", @params = new { fields = new[] { "id", "hash_string", "percent_done", "status", "labels", "file_stats", "wanted" } }, id = "x" });
        Assert.Equal("x", (string?)got["id"]);
        var item = got["result"]!["torrents"]![0]!;
        Assert.Equal(torrent.InfoHash, (string?)item["hash_string"]);
        Assert.Equal(0, (int)item["status"]!);
        Assert.Equal(0.0, (double)item["percent_done"]!);
        Assert.Equal("movies", (string?)item["labels"]![0]);
        Assert.True((bool)item["wanted"]![0]!);
        Assert.NotNull(item["file_stats"]![0]!["bytes_completed"]);
        Assert.Null(item["hashString"]);

        var session = await Call(new { jsonrpc = "2.0", method = "session_get", @params = new { fields = new[] { "rpc_version_semver", "download_dir" } }, id = 3 });
        Assert.Equal("6.0.1", (string?)session["result"]!["rpc_version_semver"]);
        Assert.Null(session["result"]!["version"]);

        var unknown = await Call(new { jsonrpc = "2.0", method = "torrent_frobnicate", id = 4 });
        Assert.Equal(-32601, (int)unknown["error"]!["code"]!);
        var bad = await Call(new { jsonrpc = "2.0", method = "torrent_add", @params = new { metainfo = Convert.ToBase64String("nonsense"u8.ToArray()) }, id = 5 });
        Assert.Equal(9, (int)bad["error"]!["code"]!);
        Assert.Equal("invalid or corrupt torrent file", (string?)bad["error"]!["message"]);

        // A notification (no id) is answered with 204 and no body.
        var notification = await client.PostAsJsonAsync("/transmission/rpc", new { jsonrpc = "2.0", method = "torrent_start", @params = new { ids = new[] { torrent.InfoHash } } }, Ct);
        Assert.Equal(HttpStatusCode.NoContent, notification.StatusCode);
        var started = await Call(new { jsonrpc = "2.0", method = "torrent_get", @params = new { fields = new[] { "status" }, ids = new[] { torrent.InfoHash } }, id = 6 });
        Assert.Equal(3, (int)started["result"]!["torrents"]![0]!["status"]!);
    }

    [Fact]
    public async Task BadInput_WrongCredentialsBadJsonUnknownMethodsOversized_AnsweredAsTransmissionDoes()
    {
        var (name, _) = await NewUserAsync();
        var wrong = await Basic(name, "Wrong-password-1").PostAsync("/transmission/rpc", new StringContent("{}"), Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal("Basic realm=\"Transmission\"", wrong.Headers.WwwAuthenticate.ToString());
        Assert.StartsWith("<h1>401: Unauthorized</h1>", await wrong.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.CreateApiClient().GetAsync("/transmission/rpc", Ct)).StatusCode);
        var wrongSonarr = Sonarr(name, "Wrong-password-1");
        await Assert.ThrowsAsync<UnauthorizedAccessException>(() => wrongSonarr.GetConfigAsync());

        var sonarr = Sonarr(name);
        Assert.Equal("method name not recognized",
            (await Assert.ThrowsAsync<InvalidOperationException>(() => sonarr.ProcessAsync("torrent-frobnicate", null))).Message);
        Assert.Equal("no filename or metainfo specified",
            (await Assert.ThrowsAsync<InvalidOperationException>(() => sonarr.ProcessAsync("torrent-add", new { paused = true }))).Message);
        Assert.Equal("invalid or corrupt torrent file",
            (await Assert.ThrowsAsync<InvalidOperationException>(() => sonarr.ProcessAsync("torrent-add", new { metainfo = "!!!" }))).Message);
        Assert.Equal("no fields specified",
            (await Assert.ThrowsAsync<InvalidOperationException>(() => sonarr.ProcessAsync("torrent-get", new { ids = Array.Empty<string>() }))).Message);
        Assert.Equal("labels cannot contain comma (,) character",
            (await Assert.ThrowsAsync<InvalidOperationException>(() => sonarr.ProcessAsync("torrent-add", new { filename = "magnet:?xt=urn:btih:" + new string('b', 40), labels = new[] { "a,b" } }))).Message);
        // A URL is not fetched: only magnets and metainfo.
        Assert.StartsWith("unrecognized info",
            (await Assert.ThrowsAsync<InvalidOperationException>(() => sonarr.ProcessAsync("torrent-add", new { filename = "http://127.0.0.1:1/x.torrent" }))).Message);
        // Unknown ids select nothing: success, nothing changed.
        await sonarr.ProcessAsync("torrent-remove", new { ids = new[] { new string('c', 40) }, delete_local_data = true });

        var client = Basic(name, CatalogFactory.Password);
        var handshake = await client.PostAsync("/transmission/rpc", new StringContent("{}"), Ct);
        client.DefaultRequestHeaders.Add("X-Transmission-Session-Id", handshake.Headers.GetValues("X-Transmission-Session-Id").Single());
        var parse = JsonNode.Parse(await (await client.PostAsync("/transmission/rpc", new StringContent("{not json"), Ct)).Content.ReadAsStringAsync(Ct))!;
        Assert.Equal(-32700, (int)parse["error"]!["code"]!);
        // Over Catalog's limit (1 MiB of .torrent in tests, a third more in base64), under the Gateway's.
        var big = "{\"method\":\"torrent-add\",\"arguments\":{\"metainfo\":\"" + new string('A', 2 * 1024 * 1024) + "\"}}";
        var tooLarge = await client.PostAsync("/transmission/rpc", new StringContent(big), Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
    }

    [Fact]
    public async Task Isolation_TwoUsers_NeverSeeOrSteerEachOthersTorrents()
    {
        var (alice, _) = await NewUserAsync();
        var (bob, _) = await NewUserAsync();
        var a = Sonarr(alice);
        var b = Sonarr(bob);
        var torrent = TestTorrents.Single("tr-alice-" + Guid.NewGuid().ToString("N")[..6]);
        await a.AddFromDataAsync(torrent.Bytes);
        var id = (int)(await a.GetTorrentsAsync()).Single()!["id"]!;

        Assert.Empty(await b.GetTorrentsAsync());
        Assert.Empty(await b.GetTorrentsAsync([torrent.InfoHash]));
        await b.ProcessAsync("torrent-stop", new { ids = new object[] { id, torrent.InfoHash } });
        await b.ProcessAsync("torrent-remove", new { ids = new object[] { id }, delete_local_data = true });
        await b.SetLabelsAsync(torrent.InfoHash, ["bobs"]);
        Assert.Equal(0, (int)(await b.ProcessAsync("session-stats", null))["torrentCount"]!);
        // Bob's session id is not Alice's.
        Assert.NotEqual((string?)(await a.GetConfigAsync())["session-id"], (string?)(await b.GetConfigAsync())["session-id"]);

        var mine = (await a.GetTorrentsAsync()).Single()!;
        Assert.Equal(3, (int)mine["status"]!);
        Assert.Equal(["tv-sonarr"], mine["labels"]!.AsArray().Select(l => (string)l!));
        Assert.Equal(1, (int)(await a.ProcessAsync("session-stats", null))["torrentCount"]!);
    }
}
