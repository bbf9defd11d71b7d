using System.Diagnostics;
using System.Globalization;
using TorrentEdge.AppHost;
using TorrentEdge.AppHost.Tests;
using TorrentEdge.Engine.InteropTests.Support;
using TorrentEdge.Engine.Storage.Resume;
using TorrentEdge.EndToEnd.Tests.Support;

namespace TorrentEdge.EndToEnd.Tests;

/// <summary>
/// Issue 14's restart: the whole suite stops (gracefully, or every process killed at once) and starts again on the same
/// data folder. The embedded Kafka lived in memory, so torrent-specs starts empty; every torrent must still come back in
/// its desired state, finish from its resume data, and the accounts must still work.
/// </summary>
public sealed class RestartTests
{
    private const int BigLength = 32 * 1024 * 1024;
    private const int BigPieceLength = 256 * 1024;
    private const int SmallLength = 3 * 1024 * 1024 + 17;
    private const int BobLength = 6 * 1024 * 1024 + 5;
    // The big torrent's seeder is slow enough that the suite stops with it about half done.
    private const int BigSeederRate = 2_000_000;
    private const string AlicePassword = "correct-horse-42";
    private const string BobPassword = "battery-staple-42";

    /// <summary>The bound for every torrent to be taken up again after the restart (the suite healthy, then the specs republished and folded).</summary>
    private static readonly TimeSpan ActiveAgainBound = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    [Theory]
    [InlineData("graceful")]
    [InlineData("kill")]
    public async Task Suite_RestartedOnSameDataFolder_EveryTorrentBackInItsDesiredStateWithoutRedownloading(string stop)
    {
        if (!LibtorrentPeer.IsAvailable || !OpenTracker.IsInstalled)
        {
            Assert.Skip("needs python3-libtorrent and opentracker (Debian packages; scripts/test.sh installs them)");
        }
        var work = Directory.CreateTempSubdirectory("te-restart-").FullName;
        var seeds = Path.Combine(work, "seeds");
        Directory.CreateDirectory(seeds);
        var dataDir = Path.Combine(work, "suite");
        var disposables = new List<IAsyncDisposable>();
        SuiteApp? suite = null;
        try
        {
            var big = SingleFileTorrent.CreateContent(Path.Combine(seeds, "big.bin"), BigLength, BigPieceLength, seed: 11);
            var small = SingleFileTorrent.CreateContent(Path.Combine(seeds, "small.bin"), SmallLength, 64 * 1024, seed: 12);
            var bobs = SingleFileTorrent.CreateContent(Path.Combine(seeds, "bobs.bin"), BobLength, 128 * 1024, seed: 13);
            var placeholder = new Uri("http://127.0.0.1:1/announce");
            var hashes = new[] { (big, "big.bin"), (small, "small.bin"), (bobs, "bobs.bin") }
                .Select(t => t.Item1.Write(Path.Combine(work, t.Item2 + ".torrent"), t.Item2, placeholder)).ToList();
            var tracker = await OpenTracker.StartAsync(hashes, Ct);
            disposables.Add(tracker);
            var bigHash = big.Write(Path.Combine(work, "big.bin.torrent"), "big.bin", tracker.HttpAnnounceUrl);
            var smallHash = small.Write(Path.Combine(work, "small.bin.torrent"), "small.bin", tracker.HttpAnnounceUrl);
            var bobsHash = bobs.Write(Path.Combine(work, "bobs.bin.torrent"), "bobs.bin", tracker.HttpAnnounceUrl);
            Assert.Equal(hashes, new List<string> { bigHash, smallHash, bobsHash });

            // The seeders outlive the suite: they are the swarm the restarted suite finds again.
            await SuiteChecks.StartSeederAsync(Path.Combine(work, "big.bin.torrent"), seeds, BigSeederRate, disposables, Ct);
            await SuiteChecks.StartSeederAsync(Path.Combine(work, "small.bin.torrent"), seeds, 0, disposables, Ct);
            await SuiteChecks.StartSeederAsync(Path.Combine(work, "bobs.bin.torrent"), seeds, 0, disposables, Ct);

            suite = await StartSuiteAsync(dataDir);
            await suite.WaitUntilHealthyAsync(workers: 2, TimeSpan.FromSeconds(180), Ct);
            Log($"suite healthy: {suite.Describe()}");
            string aliceRefresh;
            HashSet<string> firstWorkers;
            Totals totalsBefore;
            using (var alice = new GatewayClient(suite.GatewayUrl))
            using (var bob = new GatewayClient(suite.GatewayUrl))
            {
                await alice.RegisterAndLogInAsync("alice", AlicePassword, Ct);
                await bob.RegisterAndLogInAsync("bob", BobPassword, Ct);
                Assert.Equal(smallHash, await alice.UploadAsync(Path.Combine(work, "small.bin.torrent"), paused: false, Ct));
                Assert.Equal(bobsHash, await bob.UploadAsync(Path.Combine(work, "bobs.bin.torrent"), paused: true, Ct));
                Assert.Equal(bigHash, await alice.UploadAsync(Path.Combine(work, "big.bin.torrent"), paused: false, Ct));

                var smallDone = await WaitForAsync(alice, smallHash, s => s is { Progress: >= 1, State: "seeding" }, TimeSpan.FromSeconds(90), suite, "small complete");
                var bobsPaused = await WaitForAsync(bob, bobsHash, s => s is { State: "paused", WorkerId: not null }, TimeSpan.FromSeconds(60), suite, "bob's taken paused");
                var bigHalf = await WaitForAsync(alice, bigHash, s => s.Progress >= 0.35 && s.Progress < 0.7, TimeSpan.FromSeconds(90), suite, "big between 35 % and 70 %");
                firstWorkers = [smallDone.WorkerId!, bobsPaused.WorkerId!, bigHalf.WorkerId!];
                // Alice registered first: an admin, she sees every torrent's statistics.
                totalsBefore = await WaitForTotalsAsync(alice, t => t.Torrents == 3 && t.Completed >= 1 && t.BytesDownloaded >= SmallLength, suite);
                aliceRefresh = alice.RefreshToken!;
                Log($"before the stop: small seeding on {smallDone.WorkerId}, bob's paused on {bobsPaused.WorkerId}, big at {bigHalf.Progress:P1} on {bigHalf.WorkerId}");
            }

            // Stop everything.
            var stopClock = Stopwatch.StartNew();
            if (stop == "kill")
            {
                var pids = Topology.Services.SelectMany(suite.Instances).Select(i => suite.ServicePid(i.ResourceId)).ToList();
                foreach (var pid in pids)
                {
                    ProcessTree.Kill(pid);
                }
                Log($"killed {pids.Count} service processes with SIGKILL");
            }
            await suite.DisposeAsync();
            suite = null;
            Log($"suite stopped ({stop}) in {stopClock.Elapsed.TotalSeconds:0.0} s");

            var resume = new ResumeDataStore(Path.Combine(dataDir, "resume"));
            var bigResume = (await resume.LoadAsync(bigHash, Ct)).Data;
            var smallResume = (await resume.LoadAsync(smallHash, Ct)).Data;
            Assert.True(bigResume is not null, "the big torrent has no resume data after the stop");
            Assert.True(smallResume is not null, "the small torrent has no resume data after the stop");
            var verifiedPieces = bigResume.GetBitField()!.TrueCount;
            var verifiedBytes = (long)verifiedPieces * BigPieceLength;
            Log($"resume data: big has {verifiedPieces} of {bigResume.PieceCount} pieces, downloaded {bigResume.Downloaded}; small downloaded {smallResume.Downloaded}");

            // Start again on the same folder: a new embedded Kafka, empty.
            var restartClock = Stopwatch.StartNew();
            suite = await StartSuiteAsync(dataDir);
            await suite.WaitUntilHealthyAsync(workers: 2, TimeSpan.FromSeconds(180), Ct);
            var healthyAfter = restartClock.Elapsed;
            using var alice2 = new GatewayClient(suite.GatewayUrl);
            using var bob2 = new GatewayClient(suite.GatewayUrl);
            // The accounts survive: log-in with the password, and the refresh token issued before the stop still works.
            await alice2.RefreshAsync(aliceRefresh, Ct);
            await bob2.LogInAsync("bob", BobPassword, Ct);
            using (var alice3 = new GatewayClient(suite.GatewayUrl))
            {
                await alice3.LogInAsync("alice", AlicePassword, Ct);
            }
            // Analytics kept its statistics: right after the start, before any worker reported again, nothing is lower.
            var totalsAfter = Totals.From(await alice2.GetJsonAsync("/api/statistics", Ct));
            Log($"statistics before the stop {totalsBefore}, after the start {totalsAfter}");
            Assert.True(totalsAfter.Torrents >= totalsBefore.Torrents && totalsAfter.Completed >= totalsBefore.Completed
                && totalsAfter.BytesDownloaded >= totalsBefore.BytesDownloaded, $"statistics went down: {totalsBefore} -> {totalsAfter}");

            // Every torrent is taken up again by a replica of the new suite, in its desired state, without anyone acting.
            bool New(TorrentStatusView s) => s.WorkerId is { } w && !firstWorkers.Contains(w);
            var bigAgain = await WaitForAsync(alice2, bigHash, s => New(s) && s.State is "downloading" or "seeding", ActiveAgainBound, suite, "big downloading again");
            var smallAgain = await WaitForAsync(alice2, smallHash, s => New(s) && s.State == "seeding", ActiveAgainBound, suite, "small seeding again");
            var bobsAgain = await WaitForAsync(bob2, bobsHash, s => New(s) && s.State == "paused", ActiveAgainBound, suite, "bob's paused again");
            var activeAgain = restartClock.Elapsed;
            Log($"restart: healthy after {healthyAfter.TotalSeconds:0.0} s, every torrent active again after {activeAgain.TotalSeconds:0.0} s " +
                $"(big {bigAgain.State} on {bigAgain.WorkerId}, small {smallAgain.State}, bob's {bobsAgain.State})");
            Assert.Equal(0, bobsAgain.Progress);

            // The big one finishes, fetching only what was not verified before the stop.
            var bigDone = await WaitForAsync(alice2, bigHash, s => s is { Progress: >= 1, State: "seeding" }, TimeSpan.FromSeconds(90), suite, "big complete");
            var fetchedAgain = bigDone.DownloadedBytes - bigResume.Downloaded;
            Log($"big complete: counter {bigDone.DownloadedBytes}, fetched after the restart {fetchedAgain}, not verified at the stop {BigLength - verifiedBytes}");
            Assert.True(fetchedAgain > 0, $"the restarted suite reports no download of the big torrent ({bigDone.DownloadedBytes} in all, {bigResume.Downloaded} from resume data)");
            // At most the unverified pieces, plus a few pieces of slack for blocks that arrived twice.
            Assert.True(fetchedAgain <= BigLength - verifiedBytes + 4L * BigPieceLength,
                $"fetched {fetchedAgain} bytes after the restart, but only {BigLength - verifiedBytes} were not verified");
            var smallNow = await alice2.GetAsync(smallHash, Ct);
            Assert.True(smallNow!.DownloadedBytes == smallResume.Downloaded,
                $"the small torrent, complete before the stop, downloaded again: counter {smallNow.DownloadedBytes}, resume data {smallResume.Downloaded}");

            // Bob's stays paused until he resumes it, then completes.
            await bob2.ResumeAsync(bobsHash, Ct);
            await WaitForAsync(bob2, bobsHash, s => s is { Progress: >= 1, State: "seeding" }, TimeSpan.FromSeconds(60), suite, "bob's complete");

            SuiteChecks.AssertSameFile(big.ContentPath, Path.Combine(suite.DownloadRoot, bigHash, "big.bin"));
            SuiteChecks.AssertSameFile(small.ContentPath, Path.Combine(suite.DownloadRoot, smallHash, "small.bin"));
            SuiteChecks.AssertSameFile(bobs.ContentPath, Path.Combine(suite.DownloadRoot, bobsHash, "bobs.bin"));
        }
        finally
        {
            await SuiteChecks.CleanUpAsync(suite, disposables, work);
        }
    }

    private sealed record Totals(int Torrents, int Completed, long BytesDownloaded)
    {
        public static Totals From(System.Text.Json.JsonElement statistics)
        {
            var totals = statistics.GetProperty("totals");
            return new Totals(totals.GetProperty("torrents").GetInt32(), totals.GetProperty("completed").GetInt32(), totals.GetProperty("bytesDownloaded").GetInt64());
        }
    }

    private static async Task<Totals> WaitForTotalsAsync(GatewayClient api, Func<Totals, bool> condition, SuiteApp suite)
    {
        var deadline = Stopwatch.StartNew();
        Totals last;
        do
        {
            last = Totals.From(await api.GetJsonAsync("/api/statistics", Ct));
            if (condition(last))
            {
                return last;
            }
            await Task.Delay(250, Ct);
        }
        while (deadline.Elapsed < TimeSpan.FromSeconds(30));
        Assert.Fail($"the statistics never showed the torrents: {last}\n{suite.Tail()}");
        return last;
    }

    private static Task<SuiteApp> StartSuiteAsync(string dataDir) =>
        SuiteApp.StartAsync(dataDir, ["--workers", "2", "--redis", "off"], builder =>
        {
            SuiteApp.SetEnvironment(builder, Topology.PeerWorker, new Dictionary<string, string>
            {
                ["PeerWorker__SessionTimeout"] = "00:00:06",
                ["PeerWorker__ListenAddress"] = "127.0.0.1",
            });
            SuiteApp.SetEnvironment(builder, Topology.Gateway, new Dictionary<string, string> { ["Gateway__RateLimit__PermitLimit"] = "1000000" });
            // Three log-ins and a refresh per run come from one address.
            SuiteApp.SetEnvironment(builder, Topology.Catalog, new Dictionary<string, string> { ["Auth__LoginPermitsPerMinute"] = "1000" });
        }, Ct);

    private void Log(string message) =>
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,6:0.0} s] {message}"));

    private Task<TorrentStatusView> WaitForAsync(GatewayClient api, string hash, Func<TorrentStatusView, bool> condition, TimeSpan bound,
        SuiteApp suite, string what) => SuiteChecks.WaitForStatusAsync(api, hash, condition, bound, suite, what, Log, Ct);

}
