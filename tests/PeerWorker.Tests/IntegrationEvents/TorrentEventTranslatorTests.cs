using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.PeerWorker.Extensions;
using TorrentEdge.PeerWorker.IntegrationEvents;
using TorrentEdge.PeerWorker.Ownership;
using TorrentEdge.PeerWorker.Reconciliation;
using TorrentEdge.PeerWorker.Runtime;
using TorrentEdge.PeerWorker.Tests.Support;
using static TorrentEdge.PeerWorker.Tests.Support.TestTorrents;

namespace TorrentEdge.PeerWorker.Tests.IntegrationEvents;

public sealed class TorrentEventTranslatorTests : IAsyncDisposable
{
    private readonly FakeTimeProvider _time = new();
    private readonly FakeTorrentRuntime _runtime = new();
    private readonly OwnedTorrents _owned = new();
    private readonly RecordingPublisher _publisher = new();
    private readonly TorrentEventOutbox _outbox;
    private readonly TorrentEventTranslator _translator;
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public TorrentEventTranslatorTests()
    {
        var runtime = _runtime;
        var options = Microsoft.Extensions.Options.Options.Create(new PeerWorkerOptions { ReplicaId = "replica-b" });
        _outbox = new TorrentEventOutbox(_publisher, TimeProvider.System, NullLogger<TorrentEventOutbox>.Instance);
        var metrics = new PeerWorkerMetrics(_services.GetRequiredService<IMeterFactory>(), _owned, new DesiredTorrents(), runtime);
        _translator = new TorrentEventTranslator(runtime, _owned, _outbox, metrics, options, _time, NullLogger<TorrentEventTranslator>.Instance);
        _owned.Set(Hash(1), ["alice", "bob"]);
    }

    [Fact]
    public async Task Progress_ManyWithinASecond_PublishesAtMostOnePerSecond()
    {
        await _outbox.StartAsync(TestContext.Current.CancellationToken);

        for (var i = 0; i < 10; i++)
        {
            _translator.Translate(new RuntimeProgress(Hash(1), FakeTorrentRuntime.Snapshot(Hash(1))));
            _time.Advance(TimeSpan.FromMilliseconds(150));
        }
        await _outbox.FlushAsync(TimeSpan.FromSeconds(5));

        // 1.5 s of updates: the first, and the one after a second had passed.
        Assert.Equal(2, _publisher.Of<TorrentProgressed>().Count);
    }

    [Fact]
    public async Task StateChange_IsPublishedAtOnceWithOwnersAndWorker()
    {
        await _outbox.StartAsync(TestContext.Current.CancellationToken);

        _translator.Translate(new RuntimeStateChanged(Hash(1), TorrentState.Downloading));
        _translator.Translate(new RuntimeStateChanged(Hash(1), TorrentState.Seeding));
        await _outbox.FlushAsync(TimeSpan.FromSeconds(5));

        var changes = _publisher.Of<TorrentStateChanged>();
        Assert.Equal([TorrentState.Downloading, TorrentState.Seeding], changes.Select(c => c.State));
        Assert.All(changes, c => Assert.Equal(["alice", "bob"], c.Owners));
        Assert.All(changes, c => Assert.Equal("replica-b", c.WorkerId));
    }

    [Fact]
    public async Task EveryKind_MapsToItsContract()
    {
        await _outbox.StartAsync(TestContext.Current.CancellationToken);

        _translator.Translate(new RuntimePiecesVerified(Hash(1), [1, 2, 3], 3, 10));
        _translator.Translate(new RuntimeMetadataReceived(Hash(1), "name", 100, 2, [9, 9]));
        _translator.Translate(new RuntimeCompleted(Hash(1), 100));
        _translator.Translate(new RuntimeSeeding(Hash(1)));
        _translator.Translate(new RuntimeFailed(Hash(1), "disk full"));
        _translator.Translate(new RuntimeQueueChanged(Hash(1), 2, TorrentState.Queued));
        await _outbox.FlushAsync(TimeSpan.FromSeconds(5));

        Assert.Equal([1, 2, 3], Assert.Single(_publisher.Of<TorrentPiecesVerified>()).Pieces);
        Assert.Equal([9, 9], Assert.Single(_publisher.Of<TorrentMetadataReceived>()).Metainfo);
        Assert.Single(_publisher.Of<TorrentCompleted>());
        Assert.Single(_publisher.Of<TorrentSeeding>());
        Assert.Equal("disk full", Assert.Single(_publisher.Of<TorrentFailed>()).Reason);
        Assert.Equal(2, Assert.Single(_publisher.Of<TorrentQueueChanged>()).Position);
    }

    [Fact]
    public void ToProgressed_PeersKnownBeyondConnected_PeersTotalIsKnown()
    {
        var snapshot = FakeTorrentRuntime.Snapshot(Hash(1)) with { Peers = 2, PeersKnown = 9 };

        var progressed = TorrentEventTranslator.ToProgressed(snapshot, ["alice"]);

        Assert.Equal((2, 9), (progressed.PeersConnected, progressed.PeersTotal));
    }

    [Fact]
    public void ToProgressed_MorePeersThanTheLimit_KeepsTheBusiestOnes()
    {
        static PeerStatus Peer(int i, long rate) => new($"127.0.0.1:{7000 + i}", "libtorrent 2080", "tracker", false, false, 0.5, rate, 0, 0, 0, true, true);
        var snapshot = FakeTorrentRuntime.Snapshot(Hash(1)) with { PeerList = [Peer(1, 10), Peer(2, 500), Peer(3, 0), Peer(4, 70)] };

        var progressed = TorrentEventTranslator.ToProgressed(snapshot, ["alice"], maxPeers: 2);

        Assert.Equal(["127.0.0.1:7002", "127.0.0.1:7004"], progressed.Peers!.Select(p => p.Address));
    }

    [Fact]
    public async Task Progress_PieceBitfield_SentWhenChangedAndAtMostOncePerInterval()
    {
        await _outbox.StartAsync(TestContext.Current.CancellationToken);
        var first = new byte[] { 0x80 };
        var second = new byte[] { 0xC0 };
        var third = new byte[] { 0xE0 };
        void Progress(byte[] bits)
        {
            _translator.Translate(new RuntimeProgress(Hash(1), FakeTorrentRuntime.Snapshot(Hash(1)) with { PieceBitfield = bits, PieceCount = 3 }));
            _time.Advance(TimeSpan.FromSeconds(1.1));
        }

        Progress(first);   // t=0: sent (first)
        Progress(first);   // t=1.1: unchanged
        Progress(second);  // t=2.2: changed, but within 5 s of the last map
        for (var i = 0; i < 3; i++) Progress(second); // t=3.3..5.5: sent once the interval passed
        Progress(third);   // within the interval again
        await _outbox.FlushAsync(TimeSpan.FromSeconds(5));

        var maps = _publisher.Of<TorrentProgressed>().Select(p => p.PieceBitfield).ToList();
        Assert.Equal(7, maps.Count);
        Assert.Equal([first, second], maps.OfType<byte[]>());
        Assert.All(_publisher.Of<TorrentProgressed>(), p => Assert.Equal(3, p.PieceCount));
    }

    [Fact]
    public void ToProgressed_SnapshotWithTrackers_CarriesThemWithTheirHealth()
    {
        var trackers = new[]
        {
            new TrackerStatus("http://127.0.0.1:6969/announce", "working", 3, 1, null),
            new TrackerStatus("udp://tracker.invalid:80/announce", "error", 0, 0, "timed out"),
        };
        var snapshot = FakeTorrentRuntime.Snapshot(Hash(1)) with { Trackers = trackers };

        var progressed = TorrentEventTranslator.ToProgressed(snapshot, ["alice"]);

        Assert.Equal(trackers, progressed.Trackers);
    }

    [Fact]
    public async Task Completed_FinalProgressWithinTheThrottle_IsPublishedAtOnce()
    {
        await _outbox.StartAsync(TestContext.Current.CancellationToken);
        var started = FakeTorrentRuntime.Snapshot(Hash(1)) with { Progress = 0, VerifiedBytes = 0, DownloadedBytes = 0 };
        var done = started with { State = TorrentState.Seeding, Progress = 1, VerifiedBytes = 1000, DownloadedBytes = 1000, DownloadRate = 0 };

        // A small torrent completes within a second of its first progress: the engine's last progress is throttled away,
        // and as an idle seed it reports no more.
        _translator.Translate(new RuntimeProgress(Hash(1), started));
        _time.Advance(TimeSpan.FromMilliseconds(300));
        _runtime.Snapshots[Hash(1)] = done;
        _translator.Translate(new RuntimeProgress(Hash(1), done));
        _translator.Translate(new RuntimeCompleted(Hash(1), 1000));
        _translator.Translate(new RuntimeStateChanged(Hash(1), TorrentState.Seeding));
        await _outbox.FlushAsync(TimeSpan.FromSeconds(5));

        var last = _publisher.Of<TorrentProgressed>()[^1];
        Assert.Equal(1000, last.DownloadedBytes);
        Assert.Equal(1, last.Progress);
        Assert.Equal(TorrentState.Seeding, last.State);
    }

    [Fact]
    public async Task ProgressCompleteSeedingError_CarryTheNameAndRatioClientsShow()
    {
        await _outbox.StartAsync(TestContext.Current.CancellationToken);
        // 600 bytes downloaded and 10 uploaded in the fake snapshot; then a seed that uploaded 1.5 times its download.
        _translator.Translate(new RuntimeProgress(Hash(1), FakeTorrentRuntime.Snapshot(Hash(1))));
        _runtime.Snapshots[Hash(1)] = FakeTorrentRuntime.Snapshot(Hash(1)) with { State = TorrentState.Seeding, DownloadedBytes = 1000, UploadedBytes = 1500 };
        _translator.Translate(new RuntimeCompleted(Hash(1), 1000));
        _translator.Translate(new RuntimeSeeding(Hash(1)));
        _translator.Translate(new RuntimeFailed(Hash(1), "disk full"));
        await _outbox.FlushAsync(TimeSpan.FromSeconds(5));

        var name = "torrent " + Hash(1)[..6];
        Assert.Equal(name, _publisher.Of<TorrentProgressed>()[0].Name);
        Assert.Equal(name, Assert.Single(_publisher.Of<TorrentCompleted>()).Name);
        var seeding = Assert.Single(_publisher.Of<TorrentSeeding>());
        Assert.Equal(name, seeding.Name);
        Assert.Equal(1.5, seeding.Ratio);
        Assert.Equal(1500, seeding.UploadedBytes);
        Assert.Equal(name, Assert.Single(_publisher.Of<TorrentFailed>()).Name);
    }

    [Fact]
    public void Ratio_NothingDownloaded_MeasuredAgainstTheSize()
        => Assert.Equal(0.25, TorrentEventTranslator.Ratio(FakeTorrentRuntime.Snapshot(Hash(1)) with { DownloadedBytes = 0, TotalBytes = 1000, UploadedBytes = 250 }));

    [Fact]
    public async Task EventOfTorrentNotOwned_IsDropped()
    {
        await _outbox.StartAsync(TestContext.Current.CancellationToken);

        _translator.Translate(new RuntimeStateChanged(Hash(2), TorrentState.Downloading));
        await _outbox.FlushAsync(TimeSpan.FromSeconds(5));

        Assert.Empty(_publisher.Published);
    }

    public async ValueTask DisposeAsync()
    {
        await _outbox.StopAsync(CancellationToken.None);
        _outbox.Dispose();
        await _services.DisposeAsync();
    }
}
