using System.Diagnostics;
using System.Globalization;
using TorrentEdge.AppHost;
using TorrentEdge.AppHost.Tests;
using TorrentEdge.Engine.Creation;
using TorrentEdge.Engine.InteropTests.Support;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.EndToEnd.Tests.Support;

namespace TorrentEdge.EndToEnd.Tests;

/// <summary>
/// A user pastes a trackerless magnet; the suite as the AppHost declares it finds the only seeder (libtorrent on 127.0.0.2)
/// through a private DHT of libtorrent nodes on loopback, which the replicas join through <c>PeerWorker:Dht:BootstrapNodes</c>.
/// </summary>
public sealed class DhtMagnetTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly Stopwatch _clock = Stopwatch.StartNew();

    [Fact]
    public async Task Suite_TrackerlessMagnet_CompletesFromASeederFoundOnlyThroughTheDht()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("needs python3-libtorrent (scripts/test.sh installs it)");
        var work = Directory.CreateTempSubdirectory("te-e2e-dht-").FullName;
        var disposables = new List<IAsyncDisposable>();
        SuiteApp? suite = null;
        try
        {
            var payload = TestPayload.MultiFileOddSizes(Path.Combine(work, "seeds"), seed: 5, name: "dht-album");
            var torrent = Path.Combine(work, "dht-album.torrent");
            // No announce URL and no x.pe: the DHT is the only way to the seeder.
            await File.WriteAllBytesAsync(torrent, await TorrentCreator.CreateAsync(payload.ContentPath, new TorrentCreatorOptions { PieceLength = 32 * 1024 }, Ct), Ct);
            var hash = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrent, Ct)).InfoHash.ToHex();

            // The DHT's entry: a libtorrent node on 127.0.0.3 (it waits for an unrelated torrent nobody has).
            var entry = await LibtorrentPeer.StartAsync(new LibtorrentOptions
            {
                Seed = false, Magnet = "magnet:?xt=urn:btih:" + new string('e', 40), SavePath = Path.Combine(work, "entry"), Address = "127.0.0.3",
                DhtBootstrap = ["127.0.0.3:1"],
            }, Ct);
            disposables.Add(entry);
            var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions
            {
                Seed = true, TorrentPath = torrent, SavePath = payload.Root, Address = "127.0.0.2", DhtBootstrap = [entry.Endpoint],
            }, Ct);
            disposables.Add(seeder);
            await seeder.WaitForSeedingAsync(TimeSpan.FromSeconds(30), Ct);
            await entry.WaitForLineAsync(l => l.Contains("incoming dht announce", StringComparison.Ordinal) && l.Contains(hash, StringComparison.Ordinal), TimeSpan.FromSeconds(60), Ct);
            Log($"seeder 127.0.0.2:{seeder.Port} announced {hash[..8]} to the DHT node at {entry.Endpoint}");

            suite = await SuiteApp.StartAsync(Path.Combine(work, "suite"), ["--workers", "2", "--redis", "off"], builder =>
                SuiteApp.SetEnvironment(builder, Topology.PeerWorker, new Dictionary<string, string>
                {
                    ["PeerWorker__ListenAddress"] = "127.0.0.1",
                    ["PeerWorker__Dht__BootstrapNodes__0"] = entry.Endpoint,
                }), Ct);
            Log("suite started");

            using var api = new GatewayClient(suite.GatewayUrl);
            await api.RegisterAndLogInAsync("dht-user", "correct-horse-42", Ct);
            var added = Stopwatch.StartNew();
            Assert.Equal(hash, await api.AddMagnetAsync($"magnet:?xt=urn:btih:{hash}&dn=dht-album", Ct));
            var done = await SuiteChecks.WaitForStatusAsync(api, hash, s => s.Progress >= 1 && s.State == "seeding", TimeSpan.FromSeconds(120), suite,
                "trackerless magnet complete", Log, Ct);
            Log($"complete on {done.WorkerId} {added.Elapsed.TotalSeconds:0.0} s after the magnet was added");

            payload.AssertSameAs(Path.Combine(suite.DownloadRoot, hash));
        }
        finally
        {
            await SuiteChecks.CleanUpAsync(suite, disposables, work);
        }
    }

    private void Log(string message) =>
        TestContext.Current.TestOutputHelper?.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[{_clock.Elapsed.TotalSeconds,6:0.0} s] {message}"));
}
