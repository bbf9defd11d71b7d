using System.Diagnostics;
using System.Net;
using System.Text.Json;
using TorrentEdge.AppHost;
using TorrentEdge.AppHost.Tests;
using TorrentEdge.Engine.InteropTests.Support;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.EndToEnd.Tests.Support;

namespace TorrentEdge.EndToEnd.Tests;

/// <summary>
/// Issue 21 with a real download: the suite as the AppHost declares it, a magnet added through qBittorrent's Web API
/// (as Sonarr adds one) completes from a local libtorrent seeder, and torrents/info shows it as qBittorrent would.
/// </summary>
public sealed class DownloadClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task QBittorrentAdd_MagnetFromLocalSeeder_CompletesAndListsSeedingWithProgressOne()
    {
        if (!LibtorrentPeer.IsAvailable || !OpenTracker.IsInstalled || !File.Exists(MkTorrent.Program))
        {
            Assert.Skip("needs python3-libtorrent, opentracker and mktorrent (Debian packages; scripts/test.sh installs them)");
        }
        var clock = Stopwatch.StartNew();
        var work = Directory.CreateTempSubdirectory("te-e2e-qbt-").FullName;
        var seeds = Path.Combine(work, "seeds");
        Directory.CreateDirectory(seeds);
        var disposables = new List<IAsyncDisposable>();
        SuiteApp? suite = null;
        try
        {
            suite = await SuiteApp.StartAsync(Path.Combine(work, "suite"), ["--workers", "1", "--redis", "off"], builder =>
            {
                SuiteApp.SetEnvironment(builder, Topology.PeerWorker, new Dictionary<string, string> { ["PeerWorker__ListenAddress"] = "127.0.0.1" });
                SuiteApp.SetEnvironment(builder, Topology.Gateway, new Dictionary<string, string> { ["Gateway__RateLimit__PermitLimit"] = "1000000" });
            }, Ct);

            var payload = TestPayload.MultiFileOddSizes(seeds, seed: 21, name: "season-01");
            var torrentPath = Path.Combine(work, "season.torrent");
            await MkTorrent.CreateAsync(payload.ContentPath, torrentPath, [], 15, Ct);
            var hash = TorrentMetainfo.Parse(File.ReadAllBytes(torrentPath)).InfoHash.ToHex();
            var tracker = await OpenTracker.StartAsync([hash], Ct);
            disposables.Add(tracker);
            await MkTorrent.CreateAsync(payload.ContentPath, torrentPath + ".tmp", [tracker.HttpAnnounceUrl.ToString()], 15, Ct);
            File.Move(torrentPath + ".tmp", torrentPath, overwrite: true);
            var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions
            {
                Seed = true, TorrentPath = torrentPath, SavePath = seeds, MaxLifetime = TimeSpan.FromMinutes(5),
            }, Ct);
            disposables.Add(seeder);
            await seeder.WaitForSeedingAsync(TimeSpan.FromSeconds(30), Ct);

            await suite.WaitUntilHealthyAsync(workers: 1, TimeSpan.FromSeconds(180), Ct);
            using (var account = new GatewayClient(suite.GatewayUrl))
            {
                await account.RegisterAndLogInAsync("sonarr-user", "correct-horse-42", Ct);
            }

            // As Sonarr: log in for the SID cookie, then add the magnet with its category.
            using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = suite.GatewayUrl, Timeout = TimeSpan.FromSeconds(30) };
            var login = await http.PostAsync("/api/v2/auth/login",
                new FormUrlEncodedContent([new("username", "sonarr-user"), new("password", "correct-horse-42")]), Ct);
            Assert.Equal("Ok.", await login.Content.ReadAsStringAsync(Ct));
            var sid = login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("SID=", StringComparison.Ordinal)).Split(';')[0];
            http.DefaultRequestHeaders.Add("Cookie", sid);
            var magnet = $"magnet:?xt=urn:btih:{hash}&dn=season-01&tr={Uri.EscapeDataString(tracker.HttpAnnounceUrl.ToString())}&x.pe={seeder.Endpoint}";
            var form = new MultipartFormDataContent { { new StringContent(magnet), "urls" }, { new StringContent("tv-sonarr"), "category" }, { new StringContent("false"), "stopped" } };
            var added = await http.PostAsync("/api/v2/torrents/add", form, Ct);
            Assert.Equal("Ok.", await added.Content.ReadAsStringAsync(Ct));
            var properties = await http.GetAsync($"/api/v2/torrents/properties?hash={hash}", Ct);
            Assert.Equal(HttpStatusCode.OK, properties.StatusCode);

            // Poll torrents/info as Sonarr does (bounded) until it is complete and seeding.
            JsonElement item = default;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
            var states = new List<string>();
            while (DateTime.UtcNow < deadline)
            {
                var list = JsonDocument.Parse(await http.GetStringAsync("/api/v2/torrents/info?category=tv-sonarr", Ct)).RootElement;
                item = list.EnumerateArray().Single();
                var state = item.GetProperty("state").GetString()!;
                if (states.Count == 0 || states[^1] != state)
                {
                    states.Add(state);
                }
                if (item.GetProperty("progress").GetDouble() >= 1 && state is "uploading" or "stalledUP")
                {
                    break;
                }
                await Task.Delay(500, Ct);
            }
            TestContext.Current.SendDiagnosticMessage($"[{clock.Elapsed.TotalSeconds:F1}s] qBittorrent states seen: {string.Join(" -> ", states)}");
            Assert.Equal(1, item.GetProperty("progress").GetDouble());
            Assert.Contains(item.GetProperty("state").GetString(), new[] { "uploading", "stalledUP" });
            Assert.Equal(payload.TotalLength, item.GetProperty("size").GetInt64());
            Assert.Equal(8_640_000, item.GetProperty("eta").GetInt64());
            Assert.Equal("tv-sonarr", item.GetProperty("category").GetString());
            // Where Sonarr imports from: the content path holds the files, byte for byte.
            var contentPath = item.GetProperty("content_path").GetString()!;
            Assert.Equal(Path.Combine(suite.DownloadRoot, hash, "season-01"), contentPath);
            payload.AssertSameAs(Path.Combine(suite.DownloadRoot, hash));
        }
        finally
        {
            await SuiteChecks.CleanUpAsync(suite, disposables, work);
        }
    }
}
