using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Deque.AxeCore.Commons;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using TorrentEdge.Engine.InteropTests.Support;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.WebUi.Tests.Support;

namespace TorrentEdge.WebUi.Tests;

/// <summary>
/// Issue 19 in a real browser: Debian's chromium (Playwright) against the suite through the Gateway, a libtorrent
/// seeder on 127.0.0.1 serving a magnet's metadata and data.
/// </summary>
public sealed class BrowserFlowTests(WebUiSuite fixture) : IClassFixture<WebUiSuite>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    [Fact]
    public async Task WebUi_MagnetFromLocalSeeder_ProgressReachesHundredLiveThenPauseResumeFilesRemoveWithData()
    {
        SkipUnlessRunnable();
        if (!LibtorrentPeer.IsAvailable || !File.Exists(MkTorrent.Program))
        {
            Assert.Skip("needs python3-libtorrent and mktorrent (Debian packages; scripts/test.sh installs them)");
        }
        var seeds = Path.Combine(fixture.Work, "seeds");
        Directory.CreateDirectory(seeds);
        var payload = TestPayload.Create(seeds, "webui-album", 19, [("readme.txt", 10_001), ("disc/one.bin", 3_000_001), ("disc/two.bin", 3_000_017)]);
        var torrentPath = Path.Combine(fixture.Work, "webui-album.torrent");
        await MkTorrent.CreateAsync(payload.ContentPath, torrentPath, [], 16, Ct);
        var hash = TorrentMetainfo.Parse(File.ReadAllBytes(torrentPath)).InfoHash.ToHex();
        // Slow enough (about 6 s for 6 MB) that the bar is seen moving, not only at 0 and 100 %.
        await using var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        {
            Seed = true, TorrentPath = torrentPath, SavePath = seeds, UploadLimit = 1_000_000, MaxLifetime = TimeSpan.FromMinutes(10),
        }, Ct);
        await seeder.WaitForSeedingAsync(TimeSpan.FromSeconds(30), Ct);
        var magnet = $"magnet:?xt=urn:btih:{hash}&dn=webui-album&x.pe={seeder.Endpoint}";

        await using var aliceContext = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        await using var bobContext = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        var alice = new WebUiPage(await aliceContext.NewPageAsync(), fixture.Artifacts, "alice");
        var bob = new WebUiPage(await bobContext.NewPageAsync(), fixture.Artifacts, "bob");

        // 1. Register, log out, log in again (the token the page holds is the log-in's, not the registration's).
        await alice.OpenAsync(fixture.Gateway);
        await alice.ShotAsync("sign-in-page");
        await alice.RegisterAsync("alice", WebUiSuite.Password);
        await alice.LogOutAsync();
        await alice.LogInAsync("alice", WebUiSuite.Password);
        await alice.ShotAsync("signed-in-empty-list");
        Log("alice registered, logged out and in");

        // A second user in another browser context, live on the hub while alice downloads.
        await bob.OpenAsync(fixture.Gateway);
        await bob.RegisterAsync("bob", WebUiSuite.Password);
        await bob.Page.GetByRole(AriaRole.Status, new() { Name = "Live updates: Live" }).WaitForAsync(new() { Timeout = 20_000 });

        // 2. Add the magnet; watch the bar reach 100 % without reloading and without the page polling the list.
        await alice.Page.GetByRole(AriaRole.Status, new() { Name = "Live updates: Live" }).WaitForAsync(new() { Timeout = 20_000 });
        await alice.Page.EvaluateAsync("() => { window.__sameDocument = 'still here'; }");
        var listRequests = new List<string>();
        alice.Page.Request += (_, r) =>
        {
            if (r.Method == "GET" && new Uri(r.Url).AbsolutePath.TrimEnd('/') == "/api/torrents")
            {
                listRequests.Add(r.Url);
            }
        };
        await alice.AddMagnetAsync(magnet);
        await alice.Row(hash).WaitForAsync(new() { Timeout = 10_000 });
        await alice.ShotAsync("magnet-added");
        var seen = new List<double>();
        var deadline = Stopwatch.StartNew();
        var shotMidway = false;
        while (deadline.Elapsed < TimeSpan.FromSeconds(120))
        {
            var value = await alice.ProgressAsync(hash);
            if (value is { } v && (seen.Count == 0 || seen[^1] != v))
            {
                seen.Add(v);
                if (v is > 0 and < 100 && !shotMidway)
                {
                    shotMidway = true;
                    await alice.ShotAsync("progress-midway");
                }
            }
            if (value >= 100)
            {
                break;
            }
            await Task.Delay(100, Ct);
        }
        Log($"progress values seen in the row: {string.Join(", ", seen.Select(v => v.ToString(CultureInfo.InvariantCulture)))}");
        Assert.True(seen.Count > 0 && seen[^1] >= 100, $"the bar did not reach 100 % within 120 s: {string.Join(", ", seen)}\n{seeder.Log}\n{fixture.Suite.Tail()}");
        Assert.True(seen.Count(v => v is > 0 and < 100) >= 1, $"the bar jumped to 100 % without showing progress in between: {string.Join(", ", seen)}");
        Assert.Equal("still here", await alice.Page.EvaluateAsync<string>("() => window.__sameDocument"));
        Assert.True(listRequests.Count == 0, $"the page fetched the list while watching (polling?): {string.Join(", ", listRequests)}");
        await alice.Row(hash).GetByText("webui-album").WaitForAsync();
        await alice.ShotAsync("progress-100");
        payload.AssertSameAs(Path.Combine(fixture.Suite.DownloadRoot, hash));

        // The second user never sees it: not in the list, not in the page's state, after every event alice got.
        Assert.Equal(0, await bob.Row(hash).CountAsync());
        Assert.Equal(0, await bob.Page.EvaluateAsync<int>("() => window.torrentedge.store.torrents.size"));
        await bob.Page.GetByText("No torrents yet").WaitForAsync();
        await bob.ShotAsync("other-user-sees-nothing");
        await bob.Page.ReloadAsync();
        await bob.SignedInAsync();
        await bob.Page.GetByText("No torrents yet").WaitForAsync();
        Assert.Equal(0, await bob.Row(hash).CountAsync());

        // 3. Pause and resume from the selection's toolbar.
        var state = alice.Row(hash).Locator(".c-state");
        await alice.Row(hash).GetByRole(AriaRole.Checkbox).CheckAsync();
        await alice.Page.GetByRole(AriaRole.Toolbar, new() { Name = "Actions on 1 torrent" }).GetByRole(AriaRole.Button, new() { Name = "Pause" }).ClickAsync();
        await Assertions.Expect(state).ToHaveTextAsync("Paused", new() { Timeout = 20_000 });
        await alice.ShotAsync("paused");
        await alice.Page.GetByRole(AriaRole.Toolbar, new() { Name = "Actions on 1 torrent" }).GetByRole(AriaRole.Button, new() { Name = "Resume" }).ClickAsync();
        await Assertions.Expect(state).ToHaveTextAsync("Seeding", new() { Timeout = 30_000 });
        await alice.ShotAsync("resumed-seeding");
        Log("paused and resumed");

        // 4. Its files, each at 100 %.
        await alice.Row(hash).GetByRole(AriaRole.Button, new() { Name = "webui-album" }).ClickAsync();
        var detail = alice.Page.GetByRole(AriaRole.Complementary, new() { Name = "webui-album" });
        await detail.GetByRole(AriaRole.Tab, new() { Name = "Files" }).ClickAsync();
        var files = detail.GetByRole(AriaRole.Table);
        foreach (var (relative, _) in payload.Files)
        {
            var row = files.GetByRole(AriaRole.Row).Filter(new() { HasText = Path.GetFileName(relative) });
            await Assertions.Expect(row).ToHaveCountAsync(1);
            await Assertions.Expect(row.GetByRole(AriaRole.Progressbar)).ToHaveAttributeAsync("aria-valuenow", "100");
        }
        await alice.ShotAsync("files");

        // 5. Remove with its data.
        await detail.GetByRole(AriaRole.Button, new() { Name = "Remove…" }).ClickAsync();
        var confirm = alice.Page.GetByRole(AriaRole.Dialog, new() { Name = "Remove torrent?" });
        await confirm.GetByLabel("Also delete the downloaded data").CheckAsync();
        await alice.ShotAsync("remove-with-data");
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Remove with data" }).ClickAsync();
        await Assertions.Expect(alice.Row(hash)).ToHaveCountAsync(0, new() { Timeout = 10_000 });
        var folder = Path.Combine(fixture.Suite.DownloadRoot, hash);
        for (var i = 0; i < 150 && Directory.Exists(folder); i++)
        {
            await Task.Delay(200, Ct);
        }
        Assert.False(Directory.Exists(folder), $"{folder} still exists 30 s after remove with data");
        await alice.ShotAsync("removed");
        Log("removed with data: the download folder is gone");
    }

    /// <summary>
    /// The detail panel's peers, piece map, categories, tags and share limits against a real download: a libtorrent seeder
    /// named by the magnet's x.pe, so the peer list must show it as found through the magnet link.
    /// </summary>
    [Fact]
    public async Task WebUi_DownloadingMagnet_PeersPieceMapLabelsAndShareLimitInDetailPanel()
    {
        SkipUnlessRunnable();
        if (!LibtorrentPeer.IsAvailable || !File.Exists(MkTorrent.Program))
        {
            Assert.Skip("needs python3-libtorrent and mktorrent (Debian packages; scripts/test.sh installs them)");
        }
        var seeds = Path.Combine(fixture.Work, "seeds-detail");
        Directory.CreateDirectory(seeds);
        var payload = TestPayload.Create(seeds, "detail-album", 21, [("a.bin", 4_000_003), ("b/c.bin", 4_000_009)]);
        var torrentPath = Path.Combine(fixture.Work, "detail-album.torrent");
        await MkTorrent.CreateAsync(payload.ContentPath, torrentPath, [], 16, Ct);
        var metainfo = TorrentMetainfo.Parse(File.ReadAllBytes(torrentPath));
        var hash = metainfo.InfoHash.ToHex();
        // About 16 s for 8 MB: time to watch its peer and a half-filled map.
        await using var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        {
            Seed = true, TorrentPath = torrentPath, SavePath = seeds, UploadLimit = 500_000, MaxLifetime = TimeSpan.FromMinutes(10),
        }, Ct);
        await seeder.WaitForSeedingAsync(TimeSpan.FromSeconds(30), Ct);

        await using var context = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1600, Height = 900 } });
        var ui = new WebUiPage(await context.NewPageAsync(), fixture.Artifacts, "detail");
        await ui.OpenAsync(fixture.Gateway);
        await ui.RegisterAsync("carol", WebUiSuite.Password);
        var other = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().Concat(new byte[4]).ToArray());
        await ui.AddMagnetAsync($"magnet:?xt=urn:btih:{other}&dn=uncategorised", paused: true);
        await ui.AddMagnetAsync($"magnet:?xt=urn:btih:{hash}&dn=detail-album&x.pe={seeder.Endpoint}", category: "linux", tags: "iso, weekly");
        await ui.Row(hash).WaitForAsync(new() { Timeout = 10_000 });

        // Category and tags set on add: a column of the list, and filters.
        await Assertions.Expect(ui.Row(hash).Locator(".c-labels")).ToHaveTextAsync("linuxisoweekly");
        await ui.Page.GetByLabel("Filter by category").SelectOptionAsync("linux");
        await Assertions.Expect(ui.Row(other)).ToHaveCountAsync(0);
        await Assertions.Expect(ui.Row(hash)).ToHaveCountAsync(1);
        await ui.ShotAsync("filtered-by-category");
        await ui.Page.GetByLabel("Filter by category").SelectOptionAsync(new SelectOptionValue { Label = "Any category" });
        await ui.Page.GetByLabel("Filter by tag").SelectOptionAsync("weekly");
        await Assertions.Expect(ui.Row(other)).ToHaveCountAsync(0);
        await ui.Page.GetByLabel("Filter by tag").SelectOptionAsync(new SelectOptionValue { Label = "Any tag" });
        await Assertions.Expect(ui.Row(other)).ToHaveCountAsync(1);

        // Peers while it downloads: the seeder, found through the magnet's x.pe, not encrypted.
        await ui.Row(hash).GetByRole(AriaRole.Button, new() { Name = "detail-album" }).ClickAsync();
        var detail = ui.Page.GetByRole(AriaRole.Complementary, new() { Name = "detail-album" });
        await detail.GetByRole(AriaRole.Tab, new() { Name = "Peers" }).ClickAsync();
        var peerRow = detail.GetByRole(AriaRole.Row).Filter(new() { HasText = seeder.Endpoint });
        await peerRow.WaitForAsync(new() { Timeout = 30_000 });
        await Assertions.Expect(peerRow).ToContainTextAsync("Magnet link (x.pe)");
        await Assertions.Expect(peerRow.GetByRole(AriaRole.Cell).Nth(2)).ToHaveTextAsync("no");
        // The client as it named itself in its extension handshake ("v": lt_peer.py's user_agent).
        await Assertions.Expect(peerRow.GetByRole(AriaRole.Cell).Nth(0)).ToHaveTextAsync("lt_peer/2.0.8");
        await ui.ShotAsync("peers");
        var axe = new List<string>();
        await CheckAsync(ui, "detail-peers", axe);

        // The piece map: Catalog's bitfield, filled as pieces arrive, complete at the end.
        await detail.GetByRole(AriaRole.Tab, new() { Name = "Pieces" }).ClickAsync();
        var map = detail.GetByRole(AriaRole.Img, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Piece map") });
        await map.WaitForAsync(new() { Timeout = 30_000 });
        var partial = await map.GetAttributeAsync("data-have");
        await ui.ShotAsync("piece-map-downloading");
        await Assertions.Expect(map).ToHaveAttributeAsync("aria-label", $"Piece map: {metainfo.PieceCount} of {metainfo.PieceCount} pieces verified", new() { Timeout = 90_000 });
        await ui.ShotAsync("piece-map-complete");
        Log($"piece map: {partial} of {metainfo.PieceCount} when first drawn, then complete");
        await CheckAsync(ui, "detail-pieces", axe);

        // Category and tags edited in the panel, kept over a reload.
        await detail.GetByRole(AriaRole.Tab, new() { Name = "Overview" }).ClickAsync();
        await detail.GetByLabel("Category", new() { Exact = true }).FillAsync("distros");
        await detail.GetByLabel("Tags (comma-separated)").FillAsync("iso");
        await detail.GetByRole(AriaRole.Button, new() { Name = "Save labels" }).ClickAsync();
        await ui.Page.GetByText("Category and tags saved.").WaitForAsync();
        await CheckAsync(ui, "detail-overview-forms", axe);

        // A share limit reached: ratio 0 on a seed. Catalog pauses it (as qBittorrent does by default).
        await Assertions.Expect(ui.Row(hash).Locator(".c-state")).ToHaveTextAsync("Seeding", new() { Timeout = 60_000 });
        await detail.GetByLabel("Ratio limit").FillAsync("0");
        await detail.GetByRole(AriaRole.Button, new() { Name = "Save limits" }).ClickAsync();
        await Assertions.Expect(ui.Row(hash).Locator(".c-state")).ToHaveTextAsync("Paused", new() { Timeout = 40_000 });
        await ui.ShotAsync("paused-by-ratio-limit");
        Log("ratio limit 0 paused the seed");

        await ui.Page.ReloadAsync();
        await ui.SignedInAsync();
        await Assertions.Expect(ui.Row(hash).Locator(".c-labels")).ToHaveTextAsync("distrosiso", new() { Timeout = 10_000 });
        await Assertions.Expect(ui.Row(hash).Locator(".c-state")).ToHaveTextAsync("Paused");
        await ui.ShotAsync("labels-after-reload");
        payload.AssertSameAs(Path.Combine(fixture.Suite.DownloadRoot, hash));

        File.WriteAllLines(Path.Combine(fixture.Artifacts, "axe-detail.txt"), axe);
        Assert.DoesNotContain(axe, line => line.Contains("serious", StringComparison.Ordinal) || line.Contains("critical", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WebUi_MainPages_NoSeriousOrCriticalAccessibilityViolations()
    {
        SkipUnlessRunnable();
        await using var context = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        var ui = new WebUiPage(await context.NewPageAsync(), fixture.Artifacts, "axe");
        var report = new List<string>();

        await ui.OpenAsync(fixture.Gateway);
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).WaitForAsync();
        await CheckAsync(ui, "sign-in", report);
        await ui.LogInAsync(WebUiSuite.AdminName, WebUiSuite.Password);
        var hash = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().Concat(new byte[4]).ToArray());
        await ui.AddMagnetAsync($"magnet:?xt=urn:btih:{hash}&dn=axe-sample", paused: true);
        await ui.Row(hash).WaitForAsync();
        await CheckAsync(ui, "torrent-list", report);
        await ui.Page.GetByRole(AriaRole.Button, new() { Name = "Add torrent" }).ClickAsync();
        await CheckAsync(ui, "add-dialog", report);
        await ui.Page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await ui.Row(hash).GetByRole(AriaRole.Button, new() { Name = "axe-sample" }).ClickAsync();
        await ui.Page.GetByRole(AriaRole.Complementary).WaitForAsync();
        await CheckAsync(ui, "detail-panel", report);
        await ui.Page.GetByRole(AriaRole.Link, new() { Name = "Statistics" }).ClickAsync();
        await ui.Page.GetByRole(AriaRole.Heading, new() { Name = "Totals" }).WaitForAsync();
        await CheckAsync(ui, "statistics", report);
        await ui.Page.GetByRole(AriaRole.Link, new() { Name = "Users" }).ClickAsync();
        await ui.Page.GetByRole(AriaRole.Cell, new() { Name = WebUiSuite.AdminName }).Or(ui.Page.GetByRole(AriaRole.Rowheader, new() { Name = WebUiSuite.AdminName })).First.WaitForAsync();
        await CheckAsync(ui, "users", report);
        await ui.Page.GetByLabel("Theme").SelectOptionAsync("dark");
        await ui.Page.GetByRole(AriaRole.Link, new() { Name = "Torrents" }).ClickAsync();
        await ui.Row(hash).WaitForAsync();
        await CheckAsync(ui, "torrent-list-dark", report);

        File.WriteAllLines(Path.Combine(fixture.Artifacts, "axe.txt"), report);
        Log(string.Join('\n', report));
        Assert.DoesNotContain(report, line => line.Contains("serious", StringComparison.Ordinal) || line.Contains("critical", StringComparison.Ordinal));
    }

    [Fact]
    public async Task WebUi_PhoneWidth390_ListHasNoHorizontalScroll()
    {
        SkipUnlessRunnable();
        await using var context = await fixture.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 390, Height = 844 }, IsMobile = true, HasTouch = true });
        var ui = new WebUiPage(await context.NewPageAsync(), fixture.Artifacts, "phone");
        await ui.OpenAsync(fixture.Gateway);
        await ui.RegisterAsync("phone-user", WebUiSuite.Password);
        var hash = Convert.ToHexStringLower(Guid.NewGuid().ToByteArray().Concat(new byte[4]).ToArray());
        await ui.AddMagnetAsync($"magnet:?xt=urn:btih:{hash}&dn=a-rather-long-name-for-a-phone-screen-that-must-not-widen-the-page.iso", paused: true);
        await ui.Row(hash).WaitForAsync();
        await ui.ShotAsync("list-390px");

        var widths = await ui.Page.EvaluateAsync<JsonElement>("""
            () => {
              const doc = document.scrollingElement;
              const grid = document.querySelector('[role=grid]');
              const viewport = document.querySelector('[role=grid] .viewport');
              // The list clips what overflows (so scrollWidth alone would not tell): every drawn part of a row must
              // also end within the screen.
              const rightmost = Math.max(...[...grid.querySelectorAll('[role=row] *')]
                .filter(e => e.getClientRects().length > 0).map(e => e.getBoundingClientRect().right));
              return { page: doc.scrollWidth, pageClient: doc.clientWidth, grid: grid.scrollWidth, gridClient: grid.clientWidth,
                       list: viewport.scrollWidth, listClient: viewport.clientWidth, rightmost: Math.ceil(rightmost), screen: window.innerWidth };
            }
            """);
        Log($"widths at 390 px: {widths}");
        Assert.True(widths.GetProperty("page").GetInt32() <= widths.GetProperty("pageClient").GetInt32(), $"the page scrolls sideways: {widths}");
        Assert.True(widths.GetProperty("grid").GetInt32() <= widths.GetProperty("gridClient").GetInt32(), $"the list scrolls sideways: {widths}");
        Assert.True(widths.GetProperty("list").GetInt32() <= widths.GetProperty("listClient").GetInt32(), $"the rows scroll sideways: {widths}");
        Assert.True(widths.GetProperty("rightmost").GetInt32() <= widths.GetProperty("screen").GetInt32(), $"a row is wider than the screen (clipped): {widths}");
        // The row's essentials are visible at that width: name, progress, state.
        await Assertions.Expect(ui.Row(hash).GetByRole(AriaRole.Progressbar)).ToBeVisibleAsync();
        await Assertions.Expect(ui.Row(hash).Locator(".c-state")).ToBeVisibleAsync();
    }

    /// <summary>
    /// Measures, and writes to artifacts/measurements.json: a cold load through the Gateway (a new context: empty cache, a
    /// stored session) until the list is drawn with its data, and the bytes it downloaded; then the frame rate of the
    /// list holding 5,000 torrents while each gets a progress event a second (fed in the page as the hub's payloads).
    /// Asserts what makes the numbers meaningful: the list stays virtualised (a few dozen rows in the DOM).
    /// </summary>
    [Fact]
    public async Task WebUi_ColdLoadAndFiveThousandLiveRows_Measured()
    {
        SkipUnlessRunnable();
        // A signed-in session, stored the way the page stores it, then a cold load in a context with no cache.
        string storage;
        await using (var warm = await fixture.Browser.NewContextAsync())
        {
            var ui = new WebUiPage(await warm.NewPageAsync(), fixture.Artifacts, "measure");
            await ui.OpenAsync(fixture.Gateway);
            await ui.RegisterAsync("measure-user", WebUiSuite.Password);
            storage = await warm.StorageStateAsync();
        }
        await using var cold = await fixture.Browser.NewContextAsync(new() { StorageState = storage, ViewportSize = new() { Width = 1280, Height = 800 } });
        var page = await cold.NewPageAsync();
        await page.GotoAsync(fixture.Gateway.ToString());
        await page.WaitForFunctionAsync("() => performance.getEntriesByName('torrentedge:list-ready').length > 0", null, new() { Timeout = 30_000 });
        var load = await page.EvaluateAsync<JsonElement>("""
            () => {
              const nav = performance.getEntriesByType('navigation')[0];
              const resources = performance.getEntriesByType('resource');
              const sum = (list) => list.reduce((s, r) => s + (r.transferSize || 0), 0);
              const decoded = (list) => list.reduce((s, r) => s + (r.decodedBodySize || 0), 0);
              const assets = resources.filter(r => new URL(r.name).pathname.startsWith('/assets/'));
              return {
                listReadyMs: Math.round(performance.getEntriesByName('torrentedge:list-ready')[0].startTime),
                domContentLoadedMs: Math.round(nav.domContentLoadedEventEnd),
                loadEventMs: Math.round(nav.loadEventEnd),
                htmlBytes: nav.transferSize,
                assetsTransferBytes: sum(assets),
                assetsDecodedBytes: decoded(assets),
                allTransferBytes: nav.transferSize + sum(resources),
                requests: resources.map(r => new URL(r.name).pathname),
              };
            }
            """);
        Log($"cold load: {load}");

        // 5,000 torrents; each gets one progress event a second, spread over the frames; the list is scrolled meanwhile.
        var fps = await page.EvaluateAsync<JsonElement>("""
            async () => {
              const n = 5000, hex = i => i.toString(16).padStart(40, '0');
              window.torrentedge.load(Array.from({ length: n }, (_, i) => ({
                infoHash: hex(i), name: `synthetic torrent ${i}`, totalBytes: 1e9 + i, addedAt: new Date(Date.now() - i * 1000).toISOString(),
                state: 'downloading', progress: 0 })));
              await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
              const grid = document.querySelector('[role=grid] .viewport');
              const seconds = 5, start = performance.now();
              let frames = 0, worst = 0, last = start, next = 0, events = 0;
              await new Promise(resolve => {
                const frame = now => {
                  frames++; worst = Math.max(worst, now - last); last = now;
                  const due = Math.min(n * seconds, Math.floor(((now - start) / 1000) * n));
                  for (; events < due; events++) {
                    const i = next++ % n;
                    window.torrentedge.feed('torrent:progress', { infoHash: hex(i), state: 'Downloading', progress: Math.min(1, (events / n + 1) * 0.1),
                      downloadRate: 100000 + (events % 1000), uploadRate: 5000, peersConnected: 3, peersTotal: 9, etaSeconds: 100 });
                  }
                  grid.scrollTop = ((now - start) / (seconds * 1000)) * grid.scrollHeight * 0.5;
                  if (now - start < seconds * 1000) requestAnimationFrame(frame); else resolve();
                };
                requestAnimationFrame(frame);
              });
              const elapsed = (performance.now() - start) / 1000;
              return { torrents: n, events, seconds: Math.round(elapsed * 100) / 100, frames, fps: Math.round((frames / elapsed) * 10) / 10,
                       worstFrameMs: Math.round(worst), rowsInDom: document.querySelectorAll('[role=grid] .viewport [role=row]').length };
            }
            """);
        Log($"5,000 rows with live progress: {fps}");
        await new WebUiPage(page, fixture.Artifacts, "measure").ShotAsync("5000-rows");
        File.WriteAllText(Path.Combine(fixture.Artifacts, "measurements.json"),
            JsonSerializer.Serialize(new { coldLoad = load, list5000 = fps }, new JsonSerializerOptions { WriteIndented = true }));

        Assert.True(fps.GetProperty("events").GetInt32() >= 5000 * 4, $"fewer events than asked were fed: {fps}");
        Assert.InRange(fps.GetProperty("rowsInDom").GetInt32(), 10, 100);
        Assert.True(load.GetProperty("assetsTransferBytes").GetInt64() > 0, $"no asset downloaded on a cold load: {load}");
    }

    private async Task CheckAsync(WebUiPage ui, string name, List<string> report)
    {
        await ui.ShotAsync(name);
        var result = await ui.Page.RunAxe();
        foreach (var v in result.Violations)
        {
            report.Add($"{name}: {v.Impact} {v.Id}: {v.Help} ({v.Nodes.Length} nodes: {string.Join(" | ", v.Nodes.Take(3).Select(n => n.Html))})");
        }
        report.Add($"{name}: {result.Violations.Length} violations, {result.Passes.Length} rules passed");
    }

    private static void SkipUnlessRunnable()
    {
        if (!WebUiSuite.CanRun)
        {
            Assert.Skip($"needs Debian's chromium at {WebUiSuite.Chromium} (scripts/test.sh installs it)");
        }
    }

    private void Log(string message) =>
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,6:0.0} s] {message}"));
}
