using System.Diagnostics;
using System.Globalization;
using TorrentEdge.AppHost;
using TorrentEdge.AppHost.Tests;
using TorrentEdge.Engine.InteropTests.Support;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Storage.Resume;
using TorrentEdge.EndToEnd.Tests.Support;

namespace TorrentEdge.EndToEnd.Tests;

/// <summary>
/// Issue 5's main path against the suite as the AppHost composes it (Gateway, Catalog, Analytics, Notifier, two
/// PeerWorkers, embedded Kafka, SQLite), with libtorrent seeders and Debian's opentracker on 127.0.0.1.
/// </summary>
public sealed class MainPathTests
{
    private const int BigLength = 48 * 1024 * 1024;
    private const int BigPieceLength = 256 * 1024;
    // Slow enough that pausing and killing happen mid-transfer, fast enough for the test to last about two minutes.
    // B's seeder is slower: A loses time to the pause, and B must still be running when A's replica is killed.
    private const int SeederRateA = 2_000_000;
    private const int SeederRateB = 1_500_000;
    private const int Candidates = 12;
    private const long MiB = 1024 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    [Fact]
    public async Task Suite_RealSeedersAndTwoReplicas_DownloadsPausesFailsOverWithoutRedownloadingAndDeletes()
    {
        if (!LibtorrentPeer.IsAvailable || !OpenTracker.IsInstalled || !File.Exists(MkTorrent.Program))
        {
            Assert.Skip("needs python3-libtorrent, opentracker and mktorrent (Debian packages; scripts/test.sh installs them)");
        }
        var work = Directory.CreateTempSubdirectory("te-e2e-").FullName;
        var seeds = Path.Combine(work, "seeds");
        Directory.CreateDirectory(seeds);
        var disposables = new List<IAsyncDisposable>();
        SuiteApp? suite = null;
        try
        {
            // The suite as the AppHost declares it (Aspire.Hosting.Testing); Aspire restarts nothing, so a killed
            // replica stays down.
            suite = await SuiteApp.StartAsync(Path.Combine(work, "suite"), ["--workers", "2", "--redis", "off"], builder =>
            {
                SuiteApp.SetEnvironment(builder, Topology.PeerWorker, new Dictionary<string, string>
                {
                    // A killed replica's partitions move after this long.
                    ["PeerWorker__SessionTimeout"] = "00:00:06",
                    ["PeerWorker__ListenAddress"] = "127.0.0.1",
                });
                // The test polls status a few times a second for minutes.
                SuiteApp.SetEnvironment(builder, Topology.Gateway, new Dictionary<string, string> { ["Gateway__RateLimit__PermitLimit"] = "1000000" });
            }, Ct);

            var album = TestPayload.MultiFileOddSizes(seeds, seed: 1, name: "album");
            var notes = TestPayload.Create(seeds, "notes", 2, [("readme.txt", 10_001), ("parts/one.bin", 700_001), ("parts/two.bin", 1_300_007)]);
            var bigContent = SingleFileTorrent.CreateContent(Path.Combine(work, "big-content.bin"), BigLength, BigPieceLength, seed: 3);
            var placeholder = new Uri("http://127.0.0.1:1/announce");
            var bigNames = Enumerable.Range(0, Candidates).Select(i => $"big-{i:00}.bin").ToList();
            var bigHashes = bigNames.Select(n => bigContent.Write(Path.Combine(work, n + ".torrent"), n, placeholder)).ToList();
            var albumTorrent = Path.Combine(work, "album.torrent");
            var notesTorrent = Path.Combine(work, "notes.torrent");
            await MkTorrent.CreateAsync(album.ContentPath, albumTorrent, [], 15, Ct);
            await MkTorrent.CreateAsync(notes.ContentPath, notesTorrent, [], 16, Ct);
            var albumHash = InfoHashOf(albumTorrent);
            var notesHash = InfoHashOf(notesTorrent);

            // opentracker serves only the whitelisted hashes; the announce URL is not part of the info-hash, so the
            // torrents are written again with the tracker's real address.
            var tracker = await OpenTracker.StartAsync([albumHash, notesHash, .. bigHashes], Ct);
            disposables.Add(tracker);
            var announce = tracker.HttpAnnounceUrl;
            await MkTorrent.CreateAsync(album.ContentPath, albumTorrent + ".tmp", [announce.ToString()], 15, Ct);
            await MkTorrent.CreateAsync(notes.ContentPath, notesTorrent + ".tmp", [announce.ToString()], 16, Ct);
            File.Move(albumTorrent + ".tmp", albumTorrent, overwrite: true);
            File.Move(notesTorrent + ".tmp", notesTorrent, overwrite: true);
            Assert.Equal(albumHash, InfoHashOf(albumTorrent));
            Assert.Equal(notesHash, InfoHashOf(notesTorrent));
            for (var i = 0; i < Candidates; i++)
            {
                Assert.Equal(bigHashes[i], bigContent.Write(Path.Combine(work, bigNames[i] + ".torrent"), bigNames[i], announce));
            }

            await SuiteChecks.StartSeederAsync(albumTorrent, seeds, uploadLimit: 0, disposables, Ct);
            var notesSeeder = await SuiteChecks.StartSeederAsync(notesTorrent, seeds, uploadLimit: 0, disposables, Ct);

            await suite.WaitUntilHealthyAsync(workers: 2, TimeSpan.FromSeconds(180), Ct);
            var gatewayUrl = suite.GatewayUrl;
            Log($"suite healthy: {suite.Describe()}");
            using var api = new GatewayClient(gatewayUrl);

            // 1. Register and log in through the Gateway.
            await api.RegisterAndLogInAsync("alice", "correct-horse-42", Ct);
            // Watching live, as the web UI does: Notifier's hub through the Gateway.
            var live = await NotifierListener.ConnectAsync(gatewayUrl, api.AccessToken!, ["torrent:added", "torrent:progress", "torrent:complete"], Ct);
            disposables.Add(live);

            // 2. A multi-file .torrent by upload, another by magnet link (metadata from the swarm).
            Assert.Equal(albumHash, await api.UploadAsync(albumTorrent, paused: false, Ct));
            var magnet = $"magnet:?xt=urn:btih:{notesHash}&dn=notes&tr={Uri.EscapeDataString(announce.ToString())}&x.pe={notesSeeder.Endpoint}";
            Assert.Equal(notesHash, await api.AddMagnetAsync(magnet, Ct));

            // 3. Both complete and seed; the files match the source byte for byte; the downloaded bytes are reported.
            foreach (var (hash, payload) in new[] { (albumHash, album), (notesHash, notes) })
            {
                var done = await WaitForAsync(api, hash, s => s.Progress >= 1 && s.State == "seeding" && s.DownloadedBytes >= payload.TotalLength,
                    TimeSpan.FromSeconds(90), suite, $"{payload.Name} complete, seeding, downloadedBytes >= {payload.TotalLength}");
                Assert.Equal(payload.TotalLength, done.TotalBytes);
                payload.AssertSameAs(Path.Combine(suite.DownloadRoot, hash));
                Log($"{payload.Name}: complete on {done.WorkerId}, downloadedBytes {done.DownloadedBytes}");
            }
            await WaitUntilAsync(() => live.Received("torrent:complete", albumHash) && live.Received("torrent:complete", notesHash),
                TimeSpan.FromSeconds(20), suite, "torrent:complete of both pushed to the user by Notifier");
            Log($"Notifier pushed: {live.Summary()}");

            // Two large torrents on different replicas: candidates are added paused, and one per replica is kept.
            for (var i = 0; i < Candidates; i++)
            {
                Assert.Equal(bigHashes[i], await api.UploadAsync(Path.Combine(work, bigNames[i] + ".torrent"), paused: true, Ct));
            }
            var placed = new Dictionary<string, string>();
            for (var i = 0; i < Candidates; i++)
            {
                var s = await WaitForAsync(api, bigHashes[i], s => s.WorkerId is not null && s.State == "paused", TimeSpan.FromSeconds(60), suite, "candidate taken paused by a replica");
                placed[bigHashes[i]] = s.WorkerId!;
            }
            var hashA = bigHashes[0];
            var hashB = bigHashes.FirstOrDefault(h => placed[h] != placed[hashA]);
            Assert.True(hashB is not null, $"all {Candidates} candidates landed on {placed[hashA]}: the partitions are not split between the replicas");
            var nameA = bigNames[bigHashes.IndexOf(hashA)];
            var nameB = bigNames[bigHashes.IndexOf(hashB)];
            Log($"A {nameA} on {placed[hashA]}, B {nameB} on {placed[hashB]}");
            foreach (var other in bigHashes.Where(h => h != hashA && h != hashB))
            {
                await api.DeleteAsync(other, deleteData: true, Ct);
            }

            var bigSeeds = Path.Combine(work, "big-seeds");
            Directory.CreateDirectory(bigSeeds);
            File.Copy(bigContent.ContentPath, Path.Combine(bigSeeds, nameA));
            File.Copy(bigContent.ContentPath, Path.Combine(bigSeeds, nameB));
            var seederA = await SuiteChecks.StartSeederAsync(Path.Combine(work, nameA + ".torrent"), bigSeeds, SeederRateA, disposables, Ct);
            var seederB = await SuiteChecks.StartSeederAsync(Path.Combine(work, nameB + ".torrent"), bigSeeds, SeederRateB, disposables, Ct);
            await api.ResumeAsync(hashA, Ct);
            await api.ResumeAsync(hashB, Ct);

            // 4. Pause stops the traffic (the seeder sends nothing more), resume restarts it.
            await WaitForUploadAsync(seederA, u => u >= 4 * MiB, TimeSpan.FromSeconds(60), "A's seeder sent 4 MiB", api, hashA, suite);
            await api.PauseAsync(hashA, Ct);
            await WaitForAsync(api, hashA, s => s.State == "paused", TimeSpan.FromSeconds(20), suite, "A paused");
            await Task.Delay(TimeSpan.FromSeconds(1.5), Ct);
            var uploadedAtPause = await LatestUploadAsync(seederA);
            await Task.Delay(TimeSpan.FromSeconds(3), Ct);
            var uploadedAfterPause = await LatestUploadAsync(seederA);
            var paused = await api.GetAsync(hashA, Ct);
            Log($"A paused: the seeder sent {uploadedAfterPause - uploadedAtPause} bytes in 3 s; status {paused}");
            Assert.True(paused is { State: "paused", DownloadRate: 0 }, $"A's status while paused: {paused}");
            Assert.True(uploadedAfterPause - uploadedAtPause <= 64 * 1024,
                $"A's seeder kept sending while A was paused: {uploadedAtPause} -> {uploadedAfterPause} bytes");
            await api.ResumeAsync(hashA, Ct);
            await WaitForUploadAsync(seederA, u => u >= uploadedAfterPause + MiB, TimeSpan.FromSeconds(30), "A's seeder sends again after resume", api, hashA, suite);
            await WaitForAsync(api, hashA, s => s.State == "downloading", TimeSpan.FromSeconds(20), suite, "A downloading again");

            // 5. Kill -9 A's replica mid-download: A completes on the other replica without downloading again what was verified.
            var beforeKill = await WaitForAsync(api, hashA, s => s.Progress >= 0.4 && s.Progress < 0.8, TimeSpan.FromSeconds(90), suite, "A between 40 % and 80 %");
            var statusB = await api.GetAsync(hashB, Ct);
            Assert.True(statusB is { Progress: < 1 }, "B finished before the kill: the two large torrents did not run at the same time");
            Log($"B at {statusB.Progress:P1} on {statusB.WorkerId} at the kill");
            var victim = beforeKill.WorkerId!;
            var survivor = placed[hashB];
            Assert.NotEqual(victim, survivor);
            var victimInstance = SuiteChecks.InstanceOf(suite, victim);
            var victimPid = suite.ServicePid(victimInstance);
            suite.KillHard(victimInstance);
            var verifiedBeforeKill = (long)(beforeKill.Progress * BigLength);
            // What the engine's counter starts from on the survivor: the resume data the victim saved last (if any), plus the
            // pieces the victim verified after that save, which the survivor's recheck finds on disk and counts.
            var resume = await new ResumeDataStore(suite.ResumeRoot).LoadAsync(hashA, Ct);
            var verifiedBySavedResume = (long)(resume.Data?.GetBitField()?.TrueCount ?? 0) * BigPieceLength;
            var downloadedBySavedResume = (resume.Data?.Downloaded ?? 0) + Math.Max(0, verifiedBeforeKill - verifiedBySavedResume);
            Log($"killed {victim} (pid {victimPid}) with A at {beforeKill.Progress:P1} ({verifiedBeforeKill} bytes verified), resume data says downloaded {downloadedBySavedResume}");

            var afterTakeover = await WaitForAsync(api, hashA, s => s.WorkerId == survivor && s.Progress >= 1 && s.State == "seeding",
                TimeSpan.FromSeconds(120), suite, $"A complete and seeding on {survivor}");
            var downloadedBySurvivor = afterTakeover.DownloadedBytes - downloadedBySavedResume;
            var notYetVerified = BigLength - verifiedBeforeKill;
            Log($"A complete on {survivor}: engine counter {afterTakeover.DownloadedBytes}, downloaded after the takeover {downloadedBySurvivor}, not verified at the kill {notYetVerified}");
            Assert.True(downloadedBySurvivor > 0, $"the survivor reports no download for A ({afterTakeover.DownloadedBytes} total, {downloadedBySavedResume} from resume data)");
            // At most what was not verified, plus pieces in flight at the kill (16 pieces of slack).
            Assert.True(downloadedBySurvivor <= notYetVerified + 16L * BigPieceLength,
                $"the survivor downloaded {downloadedBySurvivor} bytes of A, but only {notYetVerified} were not verified before the kill");
            await WaitForAsync(api, hashB, s => s.Progress >= 1 && s.State == "seeding", TimeSpan.FromSeconds(90), suite, "B complete");
            SuiteChecks.AssertSameFile(bigContent.ContentPath, Path.Combine(suite.DownloadRoot, hashA, nameA));
            SuiteChecks.AssertSameFile(bigContent.ContentPath, Path.Combine(suite.DownloadRoot, hashB, nameB));
            Assert.NotEqual(Aspire.Hosting.ApplicationModel.KnownResourceStates.Running, suite.Latest[victimInstance].Snapshot.State?.Text);

            // 6. Delete with data: the files go and the worker stops the torrent (its engine has it no more, the seeder
            // has no peer left).
            var survivorUrl = suite.InstanceUrl(SuiteChecks.InstanceOf(suite, survivor));
            using var metrics = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var engineTorrentsBefore = await EngineTorrentsAsync(metrics, survivorUrl);
            await LatestUploadAsync(seederA);
            await api.DeleteAsync(hashA, deleteData: true, Ct);
            await api.DeleteAsync(albumHash, deleteData: true, Ct);
            Assert.Null(await api.GetAsync(hashA, Ct));
            await WaitUntilAsync(() => !Directory.Exists(Path.Combine(suite.DownloadRoot, hashA)) && !Directory.Exists(Path.Combine(suite.DownloadRoot, albumHash)),
                TimeSpan.FromSeconds(30), suite, "A's and the album's folders deleted");
            await seederA.WaitForStatusAsync(s => s.GetProperty("peers").GetInt32() == 0, TimeSpan.FromSeconds(30), Ct);
            var deadline = Stopwatch.StartNew();
            var engineTorrentsAfter = await EngineTorrentsAsync(metrics, survivorUrl);
            while (engineTorrentsAfter != engineTorrentsBefore - 2 && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(500, Ct);
                engineTorrentsAfter = await EngineTorrentsAsync(metrics, survivorUrl);
            }
            Assert.True(engineTorrentsAfter == engineTorrentsBefore - 2,
                $"{survivor}'s engine ran {engineTorrentsBefore} torrents before A and the album were deleted and {engineTorrentsAfter} after");
            Assert.True(File.Exists(Path.Combine(suite.DownloadRoot, hashB, nameB)), "B's data went with A's");
            Log($"deleted A and the album with their data; {survivor}'s engine runs {engineTorrentsAfter} torrents (was {engineTorrentsBefore}); A's seeder has no peer left");
        }
        finally
        {
            await SuiteChecks.CleanUpAsync(suite, disposables, work);
        }
    }

    private void Log(string message) =>
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,6:0.0} s] {message}"));

    /// <summary>The engine's <c>torrentedge.engine.torrents</c> gauge on a replica's Prometheus endpoint.</summary>
    private static async Task<int> EngineTorrentsAsync(HttpClient http, Uri replica)
    {
        var text = await http.GetStringAsync(new Uri(replica, "/metrics"), Ct);
        var match = System.Text.RegularExpressions.Regex.Match(text, @"^torrentedge_engine_torrents(?:\{[^}]*\})? (\d+)", System.Text.RegularExpressions.RegexOptions.Multiline);
        Assert.True(match.Success, "no torrentedge_engine_torrents in /metrics of " + replica);
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private static string InfoHashOf(string torrentPath) => TorrentMetainfo.Parse(File.ReadAllBytes(torrentPath)).InfoHash.ToHex();

    /// <summary>The seeder's payload bytes sent, from its newest status line (the older queued lines are skipped).</summary>
    private static async Task<long> LatestUploadAsync(LibtorrentPeer seeder)
    {
        long latest = -1;
        try
        {
            await seeder.WaitForStatusAsync(s =>
            {
                latest = s.GetProperty("up").GetInt64();
                return false;
            }, TimeSpan.FromMilliseconds(700), Ct);
        }
        catch (TimeoutException)
        {
            // Expected: every line was read.
        }
        Assert.True(latest >= 0, "the seeder printed no status line: " + seeder.Log);
        return latest;
    }

    private static async Task WaitForUploadAsync(LibtorrentPeer seeder, Func<long, bool> condition, TimeSpan bound, string what,
        GatewayClient api, string hash, SuiteApp suite)
    {
        try
        {
            await seeder.WaitForStatusAsync(s => condition(s.GetProperty("up").GetInt64()), bound, Ct);
        }
        catch (TimeoutException e)
        {
            Assert.Fail($"{what}: not within {bound.TotalSeconds} s; the torrent's status {await api.GetAsync(hash, Ct)}\n{e.Message[..Math.Min(e.Message.Length, 3000)]}\n{suite.Tail()}");
        }
    }

    private Task<TorrentStatusView> WaitForAsync(GatewayClient api, string hash, Func<TorrentStatusView, bool> condition, TimeSpan bound,
        SuiteApp suite, string what) => SuiteChecks.WaitForStatusAsync(api, hash, condition, bound, suite, what, Log, Ct);

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan bound, SuiteApp suite, string what)
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
