using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using TorrentEdge.AppHost;
using TorrentEdge.AppHost.Tests;
using TorrentEdge.Contracts.Live;
using TorrentEdge.Engine.InteropTests.Support;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.EndToEnd.Tests.Support;
using TorrentEdge.Notifier.Client;
using TorrentEdge.Notifier.Tests.SocketIO;

namespace TorrentEdge.EndToEnd.Tests;

/// <summary>
/// Issue 20's live interface through the Gateway of the suite as the AppHost declares it: the real npm socket.io-client
/// running the original design's client code, and the typed SignalR client, watch a torrent served by a local libtorrent
/// seeder download through a real PeerWorker, and a torrent that fails; another user hears nothing of either.
/// </summary>
public sealed class LiveEventsTests
{
    private const int Length = 6 * 1024 * 1024;
    // Slow enough for a few progress events (at most one a second) and pieces one by one.
    private const int SeederRate = 1_500_000;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    [Fact]
    public async Task OriginalClientThroughGateway_RealSeederAndAFailure_ReceivesEveryDocumentedEventAndAnotherUserNone()
    {
        if (!LibtorrentPeer.IsAvailable || !OpenTracker.IsInstalled || !File.Exists(MkTorrent.Program))
        {
            Assert.Skip("needs python3-libtorrent, opentracker and mktorrent (Debian packages; scripts/test.sh installs them)");
        }
        var work = Directory.CreateTempSubdirectory("te-live-").FullName;
        var seeds = Path.Combine(work, "seeds");
        var disposables = new List<IAsyncDisposable>();
        SuiteApp? suite = null;
        try
        {
            suite = await SuiteApp.StartAsync(Path.Combine(work, "suite"), ["--workers", "1", "--redis", "off"], builder =>
                SuiteApp.SetEnvironment(builder, Topology.PeerWorker, new Dictionary<string, string> { ["PeerWorker__ListenAddress"] = "127.0.0.1" }), Ct);

            var good = TestPayload.SingleFile(seeds, "good.bin", Length, seed: 20);
            var bad = TestPayload.SingleFile(Path.Combine(work, "nowhere"), "bad.bin", 100_000, seed: 21);
            var bobs = TestPayload.SingleFile(Path.Combine(work, "bobs"), "bobs.bin", 100_000, seed: 22);
            var goodTorrent = Path.Combine(work, "good.torrent");
            var badTorrent = Path.Combine(work, "bad.torrent");
            var bobsTorrent = Path.Combine(work, "bobs.torrent");
            await MkTorrent.CreateAsync(good.ContentPath, goodTorrent, [], 18, Ct);
            await MkTorrent.CreateAsync(bad.ContentPath, badTorrent, [], 15, Ct);
            await MkTorrent.CreateAsync(bobs.ContentPath, bobsTorrent, [], 15, Ct);
            var goodHash = InfoHashOf(goodTorrent);
            var badHash = InfoHashOf(badTorrent);
            // opentracker serves only whitelisted hashes; the announce URL is not part of the info-hash.
            var tracker = await OpenTracker.StartAsync([goodHash], Ct);
            disposables.Add(tracker);
            await MkTorrent.CreateAsync(good.ContentPath, goodTorrent + ".tmp", [tracker.HttpAnnounceUrl.ToString()], 18, Ct);
            File.Move(goodTorrent + ".tmp", goodTorrent, overwrite: true);
            Assert.Equal(goodHash, InfoHashOf(goodTorrent));
            await SuiteChecks.StartSeederAsync(goodTorrent, seeds, SeederRate, disposables, Ct);

            await suite.WaitUntilHealthyAsync(workers: 1, TimeSpan.FromSeconds(180), Ct);
            var gateway = suite.GatewayUrl;
            Log($"suite healthy: {suite.Describe()}");
            using var alice = new GatewayClient(gateway);
            using var bob = new GatewayClient(gateway);
            await alice.RegisterAndLogInAsync("alice", "correct-horse-42", Ct);
            await bob.RegisterAndLogInAsync("bob", "correct-horse-43", Ct);

            // The original design's client, through the Gateway: default transports (polling, then the upgrade), and
            // WebSocket only. Bob subscribes to alice's torrents too: that must not widen what he is sent.
            var upgraded = NodeSocketIoClient.Start(gateway, alice.AccessToken!, [goodHash, badHash]);
            disposables.Add(upgraded);
            var webSocket = NodeSocketIoClient.Start(gateway, alice.AccessToken!, [goodHash, badHash], "websocket");
            disposables.Add(webSocket);
            var bobClient = NodeSocketIoClient.Start(gateway, bob.AccessToken!, [goodHash, badHash]);
            disposables.Add(bobClient);
            // The same over SignalR with the typed client.
            var signalR = new TorrentEventsClient(gateway, () => Task.FromResult(alice.AccessToken));
            disposables.Add(signalR);
            await signalR.StartAsync(Ct);
            await signalR.SubscribeAsync(goodHash, Ct);
            foreach (var client in new[] { upgraded, webSocket, bobClient })
            {
                Assert.True((await client.WaitForAsync("authenticate:ack", null, Timeout, Ct)).Data.GetProperty("ok").GetBoolean());
                await client.WaitForAsync("subscribe:ack", null, Timeout, Ct);
            }
            Log("clients connected and subscribed");

            // The failing torrent: its folder's place is taken by a file, so the worker cannot store it.
            Directory.CreateDirectory(suite.DownloadRoot);
            await File.WriteAllTextAsync(Path.Combine(suite.DownloadRoot, badHash), "in the way", Ct);
            Assert.Equal(goodHash, await alice.UploadAsync(goodTorrent, paused: false, Ct));
            Assert.Equal(badHash, await alice.UploadAsync(badTorrent, paused: false, Ct));

            foreach (var client in new[] { upgraded, webSocket })
            {
                await client.WaitForAsync("torrent:added", d => Hash(d) == goodHash, Timeout, Ct);
                var progress = await client.WaitForAsync("torrent:progress", d => Hash(d) == goodHash && d.GetProperty("percentage").GetDouble() > 0, Timeout, Ct);
                Assert.Equal(JsonValueKind.Number, progress.Data.GetProperty("percentage").ValueKind);
                Assert.InRange(progress.Data.GetProperty("peers").GetProperty("connected").GetInt32(), 0, 100);
                Assert.Equal("good.bin", progress.Data.GetProperty("name").GetString());
                var piece = await client.WaitForAsync("torrent:piece", d => Hash(d) == goodHash, Timeout, Ct);
                Assert.InRange(piece.Data.GetProperty("index").GetInt32(), 0, Length / (256 * 1024) - 1);
                Assert.Equal("good.bin", (await client.WaitForAsync("torrent:complete", d => Hash(d) == goodHash, Timeout, Ct)).Data.GetProperty("name").GetString());
                var seeding = await client.WaitForAsync("torrent:seeding", d => Hash(d) == goodHash, Timeout, Ct);
                Assert.Equal(JsonValueKind.Number, seeding.Data.GetProperty("ratio").ValueKind);
                var queue = await client.WaitForAsync("queue:updated", d => Hash(d) == goodHash, Timeout, Ct);
                Assert.True(queue.Data.GetProperty("stats").GetProperty("activeCount").GetInt32() >= 1, queue.Data.ToString());
                var error = await client.WaitForAsync("torrent:error", d => Hash(d) == badHash, Timeout, Ct);
                Assert.False(string.IsNullOrWhiteSpace(error.Data.GetProperty("message").GetString()));
                Log($"socket.io ({client.Of("torrent:added").First().Transport}): {client.Summary()}");
            }
            Assert.Contains(upgraded.Events, e => e.Event == "upgrade");

            // SignalR: the same events, typed.
            await NextAsync<TorrentAddedPayload>(signalR, goodHash);
            var typedProgress = await NextAsync<TorrentProgressPayload>(signalR, goodHash);
            Assert.Equal("good.bin", typedProgress.Name);
            await NextAsync<TorrentPiecePayload>(signalR, goodHash);
            await NextAsync<TorrentCompletePayload>(signalR, goodHash);
            await NextAsync<TorrentSeedingPayload>(signalR, goodHash);

            // Bob heard nothing of alice's torrents. An event of his own torrent comes after all of theirs: wait for it,
            // so that the check below is not merely early.
            var bobsHash = await bob.UploadAsync(bobsTorrent, paused: true, Ct);
            await bobClient.WaitForAsync("queue:updated", d => Hash(d) == bobsHash, Timeout, Ct);
            var bobsTorrentEvents = bobClient.Events.Where(e => e.Event.StartsWith("torrent:", StringComparison.Ordinal) && Hash(e.Data) != bobsHash).ToList();
            Assert.True(bobsTorrentEvents.Count == 0, "bob received: " + string.Join(", ", bobsTorrentEvents.Select(e => e.Event + " " + e.Data)));
            Assert.DoesNotContain(bobClient.Events, e => e.Event != "subscribe:ack" && Hash(e.Data) is { } h && (h == goodHash || h == badHash));
            Log($"bob: {bobClient.Summary()}");
        }
        catch
        {
            if (suite is not null)
            {
                Log(suite.Tail());
            }
            throw;
        }
        finally
        {
            await SuiteChecks.CleanUpAsync(suite, disposables, work);
        }
    }

    private static string? Hash(JsonElement data) => data.ValueKind == JsonValueKind.Object && data.TryGetProperty("infoHash", out var h) ? h.GetString() : null;

    private static async Task<T> NextAsync<T>(TorrentEventsClient client, string infoHash) where T : LivePayload
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(Timeout);
        return await client.NextAsync<T>(infoHash, cts.Token);
    }

    private static string InfoHashOf(string torrentPath) => TorrentMetainfo.Parse(File.ReadAllBytes(torrentPath)).InfoHash.ToHex();

    private void Log(string message) =>
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,6:0.0} s] {message}"));
}
