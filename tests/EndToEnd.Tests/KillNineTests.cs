using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TorrentEdge.AppHost;
using TorrentEdge.AppHost.Tests;
using TorrentEdge.Engine.InteropTests.Support;
using TorrentEdge.EndToEnd.Tests.Support;

namespace TorrentEdge.EndToEnd.Tests;

/// <summary>
/// Issue 14's kill -9: Catalog, then Analytics, then one PeerWorker replica are each killed mid-traffic on one running
/// suite and brought back with the dashboard's Start command. No torrent, event or statistic may be lost.
/// </summary>
public sealed class KillNineTests
{
    // The rate-limited torrent runs through all three kills: 48 MiB at 700 kB/s is about 70 s, and the PeerWorker kill
    // comes after two restarts (about 30 s on this machine) with most of it still to fetch.
    private const int SlowLength = 48 * 1024 * 1024;
    private const int SlowPieceLength = 256 * 1024;
    private const int SlowSeederRate = 700_000;
    // One torrent completes while Catalog is down, another while Analytics is down: 6 MiB at 1.5 MB/s is about 4 s, so each
    // is still moving when its service is killed.
    private const int ShortLength = 6 * 1024 * 1024 + 11;
    private const int ShortSeederRate = 1_500_000;

    /// <summary>The bound for a killed service to be healthy again after its Start: a cold start of one .NET service.</summary>
    private static readonly TimeSpan HealthyAgainBound = TimeSpan.FromSeconds(60);

    /// <summary>The bound for the survivor's takeover: about two session timeouts (6 s) on the mock cluster, on a loaded machine.</summary>
    private static readonly TimeSpan TakeoverBound = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly HashSet<int> _killed = [];

    [Fact]
    public async Task Suite_CatalogAnalyticsAndPeerWorkerEachKilledMidTraffic_NoTorrentEventOrStatisticLost()
    {
        if (!LibtorrentPeer.IsAvailable || !OpenTracker.IsInstalled)
        {
            Assert.Skip("needs python3-libtorrent and opentracker (Debian packages; scripts/test.sh installs them)");
        }
        var work = Directory.CreateTempSubdirectory("te-kill9-").FullName;
        var seeds = Path.Combine(work, "seeds");
        Directory.CreateDirectory(seeds);
        var disposables = new List<IAsyncDisposable>();
        SuiteApp? suite = null;
        try
        {
            var contents = new[]
            {
                (Name: "slow.bin", Content: SingleFileTorrent.CreateContent(Path.Combine(seeds, "slow.bin"), SlowLength, SlowPieceLength, seed: 41), Rate: SlowSeederRate),
                (Name: "during-catalog.bin", Content: SingleFileTorrent.CreateContent(Path.Combine(seeds, "during-catalog.bin"), ShortLength, 64 * 1024, seed: 42), Rate: ShortSeederRate),
                (Name: "during-analytics.bin", Content: SingleFileTorrent.CreateContent(Path.Combine(seeds, "during-analytics.bin"), ShortLength, 64 * 1024, seed: 43), Rate: ShortSeederRate),
            };
            // opentracker serves whitelisted hashes only; the announce URL is not part of the info-hash.
            var placeholder = new Uri("http://127.0.0.1:1/announce");
            var tracker = await OpenTracker.StartAsync([.. contents.Select(c => c.Content.Write(TorrentFile(work, c.Name), c.Name, placeholder))], Ct);
            disposables.Add(tracker);
            var hashes = contents.Select(c => c.Content.Write(TorrentFile(work, c.Name), c.Name, tracker.HttpAnnounceUrl)).ToList();
            var (slow, duringCatalog, duringAnalytics) = (hashes[0], hashes[1], hashes[2]);
            foreach (var c in contents)
            {
                await SuiteChecks.StartSeederAsync(TorrentFile(work, c.Name), seeds, c.Rate, disposables, Ct);
            }

            // One suite start for the whole test.
            suite = await SuiteApp.StartAsync(Path.Combine(work, "suite"), ["--workers", "2", "--redis", "off"], builder =>
            {
                SuiteApp.SetEnvironment(builder, Topology.PeerWorker, new Dictionary<string, string>
                {
                    // A killed replica loses its partitions after this long.
                    ["PeerWorker__SessionTimeout"] = "00:00:06",
                    ["PeerWorker__ListenAddress"] = "127.0.0.1",
                });
                SuiteApp.SetEnvironment(builder, Topology.Gateway, new Dictionary<string, string> { ["Gateway__RateLimit__PermitLimit"] = "1000000" });
                SuiteApp.SetEnvironment(builder, Topology.Catalog, new Dictionary<string, string> { ["Auth__LoginPermitsPerMinute"] = "1000" });
            }, Ct);
            await suite.WaitUntilHealthyAsync(workers: 2, TimeSpan.FromSeconds(180), Ct);
            Log($"suite healthy: {suite.Describe()}");

            // The first user is an admin: the statistics cover every torrent of the suite.
            using var api = new GatewayClient(suite.GatewayUrl);
            await api.RegisterAndLogInAsync("kim", "correct-horse-42", Ct);
            await using var live = await NotifierListener.ConnectAsync(suite.GatewayUrl, api.AccessToken!, ["torrent:complete", "torrent:seeding"], Ct);
            Assert.Equal(slow, await api.UploadAsync(TorrentFile(work, "slow.bin"), paused: false, Ct));
            await WaitForAsync(api, slow, s => s is { State: "downloading", WorkerId: not null } && s.Progress >= 0.05, TimeSpan.FromSeconds(90), suite, "slow at 5 %");
            var measured = new List<string>();

            // 1. Catalog, killed while slow downloads and during-catalog is starting; during-catalog completes while it is down.
            Assert.Equal(duringCatalog, await api.UploadAsync(TorrentFile(work, "during-catalog.bin"), paused: false, Ct));
            await WaitForAsync(api, duringCatalog, s => s is { WorkerId: not null, Progress: > 0 }, TimeSpan.FromSeconds(60), suite, "during-catalog moving");
            var totals = await StatisticsAsync(api);
            var slowAtKill = (await api.GetAsync(slow, Ct))!;
            Assert.True(slowAtKill.Progress < 1, $"slow finished before Catalog's kill: {slowAtKill}");
            var catalog = Assert.Single(suite.Instances(Topology.Catalog)).ResourceId;
            var kill = Kill(suite, catalog, $"slow at {slowAtKill.Progress:P0}, during-catalog moving");
            await WaitUntilAsync(() => SameFile(contents[1].Content.ContentPath, DownloadedFile(suite, duringCatalog, "during-catalog.bin")),
                TimeSpan.FromSeconds(30), suite, "during-catalog complete on disk while Catalog is down");
            Log($"during-catalog complete on disk {kill.Elapsed.TotalSeconds:0.0} s after the kill, Catalog still down; Start");
            var heldDown = kill.Elapsed;
            await suite.StartAgainAsync(catalog, TimeSpan.FromSeconds(30), Ct);
            await WaitHealthyAgainAsync(suite, catalog, "Catalog healthy again");
            var healthy = kill.Elapsed;
            await WaitForAsync(api, slow, s => s.State == "downloading" && s.Progress > slowAtKill.Progress, HealthyAgainBound, suite, "slow's status moving again in Catalog");
            measured.Add(Figures("Catalog", heldDown, healthy, kill.Elapsed, "slow's status moving again"));
            Log(measured[^1]);
            // The completion that happened while Catalog was dead reaches its projection.
            await WaitForAsync(api, duringCatalog, s => s is { Progress: >= 1, State: "seeding" }, TimeSpan.FromSeconds(60), suite, "Catalog shows during-catalog seeding");
            await AssertTotalsNotLowerAsync(api, totals, "after Catalog's restart");

            // 2. Analytics, killed while slow downloads and during-analytics is starting; during-analytics completes while it is down.
            var completedAt = await WaitForStatisticsAsync(api, duringCatalog, t => t.GetProperty("completed").GetBoolean(), suite, "Analytics counts during-catalog complete");
            Assert.Equal(duringAnalytics, await api.UploadAsync(TorrentFile(work, "during-analytics.bin"), paused: false, Ct));
            await WaitForAsync(api, duringAnalytics, s => s is { WorkerId: not null, Progress: > 0 }, TimeSpan.FromSeconds(60), suite, "during-analytics moving");
            totals = await StatisticsAsync(api);
            var slowBytesAtKill = (await TorrentStatisticsAsync(api, slow)).GetProperty("bytesDownloaded").GetInt64();
            Assert.True((await api.GetAsync(slow, Ct))!.Progress < 1, "slow finished before Analytics' kill");
            var analytics = Assert.Single(suite.Instances(Topology.Analytics)).ResourceId;
            kill = Kill(suite, analytics, $"totals {totals}");
            await WaitUntilAsync(() => SameFile(contents[2].Content.ContentPath, DownloadedFile(suite, duringAnalytics, "during-analytics.bin")),
                TimeSpan.FromSeconds(30), suite, "during-analytics complete on disk while Analytics is down");
            Log($"during-analytics complete on disk {kill.Elapsed.TotalSeconds:0.0} s after the kill, Analytics still down; Start");
            heldDown = kill.Elapsed;
            await suite.StartAgainAsync(analytics, TimeSpan.FromSeconds(30), Ct);
            await WaitHealthyAgainAsync(suite, analytics, "Analytics healthy again");
            healthy = kill.Elapsed;
            // Right after the start, before it consumed what it missed: nothing is lower than before the kill.
            await AssertTotalsNotLowerAsync(api, totals, "right after Analytics' restart");
            await WaitForStatisticsAsync(api, slow, t => t.GetProperty("bytesDownloaded").GetInt64() > slowBytesAtKill, suite, "Analytics counts slow's bytes again");
            measured.Add(Figures("Analytics", heldDown, healthy, kill.Elapsed, "slow's bytes counted again"));
            Log(measured[^1]);
            await WaitForStatisticsAsync(api, duringAnalytics, t => t.GetProperty("completed").GetBoolean(), suite, "Analytics counts during-analytics, completed while it was down");

            // 3. The PeerWorker replica downloading slow, killed; the survivor takes slow over; the killed one is started again.
            totals = await StatisticsAsync(api);
            var beforeKill = (await api.GetAsync(slow, Ct))!;
            Assert.True(beforeKill is { State: "downloading", Progress: < 0.9 }, $"slow is not mid-download at the PeerWorker's kill: {beforeKill}");
            var victim = SuiteChecks.InstanceOf(suite, beforeKill.WorkerId!);
            var survivor = suite.Instances(Topology.PeerWorker).Single(i => i.ResourceId != victim).ResourceId;
            var survivorWorker = WorkerIdOf(suite, survivor, beforeKill.WorkerId!);
            kill = Kill(suite, victim, $"slow at {beforeKill.Progress:P0} on {beforeKill.WorkerId}");
            var takenOver = await WaitForAsync(api, slow, s => s.WorkerId == survivorWorker && s.State == "downloading", TakeoverBound, suite, "slow taken over by the survivor");
            var takeover = kill.Elapsed;
            heldDown = kill.Elapsed;
            await suite.StartAgainAsync(victim, TimeSpan.FromSeconds(30), Ct);
            await WaitHealthyAgainAsync(suite, victim, "the killed replica healthy again");
            measured.Add($"PeerWorker: survivor took slow over {takeover.TotalSeconds:0.0} s after the kill (at {takenOver.Progress:P0}), killed replica Started then, healthy {kill.Elapsed.TotalSeconds:0.0} s after the kill (Start to healthy {(kill.Elapsed - heldDown).TotalSeconds:0.0} s)");
            Log(measured[^1]);
            await suite.WaitUntilHealthyAsync(workers: 2, TimeSpan.FromSeconds(60), Ct);

            // Every torrent completes byte for byte, and Catalog shows each final state.
            foreach (var (c, hash) in contents.Zip(hashes))
            {
                await WaitForAsync(api, hash, s => s is { Progress: >= 1, State: "seeding" }, TimeSpan.FromSeconds(120), suite, $"Catalog shows {c.Name} seeding");
                SuiteChecks.AssertSameFile(c.Content.ContentPath, DownloadedFile(suite, hash, c.Name));
            }
            // The Notifier delivered every final event.
            await WaitUntilAsync(() => hashes.All(h => live.Received("torrent:complete", h) && live.Received("torrent:seeding", h)), TimeSpan.FromSeconds(60), suite,
                $"Notifier pushed torrent:complete and torrent:seeding of all three ({live.Summary()})");
            // Analytics: not lower than before any kill, and each completion counted once (the one before its kill kept its time).
            await WaitForStatisticsAsync(api, slow, t => t.GetProperty("completed").GetBoolean(), suite, "Analytics counts slow complete");
            foreach (var (c, hash) in contents.Zip(hashes))
            {
                Log($"{c.Name}: Catalog counts {(await api.GetAsync(hash, Ct))!.DownloadedBytes} bytes downloaded, Analytics {(await TorrentStatisticsAsync(api, hash)).GetProperty("bytesDownloaded")}, the file holds {c.Content.Length}");
            }
            var final = await AssertTotalsNotLowerAsync(api, totals, "at the end");
            Assert.Equal(3, final.GetProperty("torrents").GetInt32());
            Assert.Equal(3, final.GetProperty("completed").GetInt32());
            Assert.True(final.GetProperty("bytesDownloaded").GetInt64() >= SlowLength + 2L * ShortLength, $"Analytics counts fewer bytes than the three torrents hold: {final}");
            Assert.Equal(completedAt.GetProperty("completedAt").GetDateTimeOffset(), (await TorrentStatisticsAsync(api, duringCatalog)).GetProperty("completedAt").GetDateTimeOffset());
            Log($"MEASURED kill -9 mid-traffic (2 cores, shared): {string.Join("; ", measured)}. Analytics at the end {final}; Notifier {live.Summary()}");
        }
        finally
        {
            await SuiteChecks.CleanUpAsync(suite, disposables, work);
        }
    }

    private static string TorrentFile(string work, string name) => Path.Combine(work, name + ".torrent");

    private static string DownloadedFile(SuiteApp suite, string hash, string name) => Path.Combine(suite.DownloadRoot, hash, name);

    // Held down until its torrent completed (the test's choice), then Start: the figure that matters is Start to healthy.
    private static string Figures(string service, TimeSpan heldDown, TimeSpan healthy, TimeSpan active, string what) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{service}: kill to healthy {healthy.TotalSeconds:0.0} s (held down {heldDown.TotalSeconds:0.0} s, Start to healthy {(healthy - heldDown).TotalSeconds:0.0} s), kill to {what} {active.TotalSeconds:0.0} s");

    /// <summary>kill -9 of one instance's service process; the orchestrator is not told.</summary>
    private Stopwatch Kill(SuiteApp suite, string resourceId, string context)
    {
        var pid = suite.ServicePid(resourceId);
        suite.KillHard(resourceId);
        var clock = Stopwatch.StartNew();
        _killed.Add(pid);
        Assert.False(ProcessTree.IsAlive(pid), $"{resourceId} (pid {pid}) survived kill -9");
        Log($"kill -9 {resourceId} (pid {pid}): {context}");
        return clock;
    }

    /// <summary>
    /// Waits (bounded) until the instance runs a new process that answers its own <c>/health</c> with 200: the snapshot's
    /// health alone may still be the last report from before the kill.
    /// </summary>
    private async Task WaitHealthyAgainAsync(SuiteApp suite, string resourceId, string what)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < HealthyAgainBound)
        {
            if (SuiteApp.IsRunningAndHealthy(suite.Latest[resourceId])
                && suite.Latest[resourceId].Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value is { } value
                && !_killed.Contains(Convert.ToInt32(value, CultureInfo.InvariantCulture)))
            {
                try
                {
                    using var response = await http.GetAsync(new Uri(suite.InstanceUrl(resourceId), "/health"), Ct);
                    if (response.IsSuccessStatusCode)
                    {
                        return;
                    }
                }
                catch (Exception e) when (e is HttpRequestException || e is TaskCanceledException && !Ct.IsCancellationRequested)
                {
                    // Not listening yet, or too slow to answer: asked again.
                }
            }
            await Task.Delay(100, Ct);
        }
        Assert.Fail($"{what}: not within {HealthyAgainBound.TotalSeconds} s. Resources: {suite.Describe()}\n{suite.Tail()}");
    }

    /// <summary>The replica id the survivor reports in Catalog (the same shape as the victim's).</summary>
    private static string WorkerIdOf(SuiteApp suite, string resourceId, string victimWorkerId)
    {
        var environment = ProcessTree.Environment(suite.ServicePid(resourceId));
        var id = environment.GetValueOrDefault("OTEL_RESOURCE_ATTRIBUTES", "").Split(',').Select(a => a.Trim())
            .First(a => a.StartsWith("service.instance.id=", StringComparison.Ordinal))["service.instance.id=".Length..];
        return victimWorkerId.StartsWith(Topology.PeerWorker + "-", StringComparison.Ordinal) && !id.StartsWith(Topology.PeerWorker + "-", StringComparison.Ordinal)
            ? $"{Topology.PeerWorker}-{id}" : id;
    }

    private static async Task<JsonElement> StatisticsAsync(GatewayClient api) =>
        (await api.GetJsonAsync("/api/statistics", Ct)).GetProperty("totals").Clone();

    private static async Task<JsonElement> TorrentStatisticsAsync(GatewayClient api, string hash) =>
        (await api.GetJsonAsync($"/api/statistics/torrents/{hash}", Ct)).Clone();

    private async Task<JsonElement> AssertTotalsNotLowerAsync(GatewayClient api, JsonElement before, string when)
    {
        var now = await StatisticsAsync(api);
        Log($"statistics {when}: {now} (before the kill {before})");
        foreach (var field in new[] { "torrents", "completed", "bytesDownloaded", "bytesUploaded" })
        {
            Assert.True(now.GetProperty(field).GetInt64() >= before.GetProperty(field).GetInt64(), $"Analytics' {field} went down {when}: {before} -> {now}");
        }
        return now;
    }

    private async Task<JsonElement> WaitForStatisticsAsync(GatewayClient api, string hash, Func<JsonElement, bool> condition, SuiteApp suite, string what)
    {
        var deadline = Stopwatch.StartNew();
        JsonElement last;
        do
        {
            last = await TorrentStatisticsAsync(api, hash);
            if (condition(last))
            {
                return last;
            }
            await Task.Delay(250, Ct);
        }
        while (deadline.Elapsed < TimeSpan.FromSeconds(60));
        Assert.Fail($"{what}: not within 60 s; last {last}\n{suite.Tail()}");
        return last;
    }

    private static bool SameFile(string expected, string actual)
    {
        if (!File.Exists(actual) || new FileInfo(actual).Length != new FileInfo(expected).Length)
        {
            return false;
        }
        return File.ReadAllBytes(expected).AsSpan().SequenceEqual(File.ReadAllBytes(actual));
    }

    private void Log(string message) =>
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,6:0.0} s] {message}"));

    private Task<TorrentStatusView> WaitForAsync(GatewayClient api, string hash, Func<TorrentStatusView, bool> condition, TimeSpan bound, SuiteApp suite, string what) =>
        SuiteChecks.WaitForStatusAsync(api, hash, condition, bound, suite, what, Log, Ct);

    private async Task WaitUntilAsync(Func<bool> condition, TimeSpan bound, SuiteApp suite, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < bound)
        {
            if (condition())
            {
                return;
            }
            await Task.Delay(250, Ct);
        }
        Assert.Fail($"{what}: not within {bound.TotalSeconds} s\n{suite.Tail()}");
    }
}
