using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.IntegrationEvents;
using TorrentEdge.Catalog.Model;
using TorrentEdge.Catalog.Tests.Apis;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Tests.IntegrationEvents;

public sealed class OutboxDispatcherTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "catalog-outbox-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task DispatchPending_PublisherThrows_RowStaysThenLaterSucceeds()
    {
        var store = new SqliteCatalogStore($"Data Source={Path.Combine(_directory, "outbox.db")}");
        await store.InitializeAsync(Ct);
        await store.TryInsertTorrentAsync(new CatalogTorrent
        {
            InfoHash = new string('a', 40),
            Name = "x",
            Metainfo = [1, 2, 3],
            Owners = [new TorrentOwner("u1", DateTimeOffset.UtcNow)],
            Revision = 1,
        }, Ct);
        var publisher = new RecordingPublisher { Fail = true };
        var dispatcher = new OutboxDispatcher(store, new OutboxSignal(), Options.Create(new CatalogOptions()), TimeProvider.System,
            NullLogger<OutboxDispatcher>.Instance, publisher);

        await Assert.ThrowsAsync<InvalidOperationException>(() => dispatcher.DispatchPendingAsync(Ct));
        Assert.Empty(publisher.Published);
        Assert.Single(await store.ListUnpublishedAsync(10, Ct));

        publisher.Fail = false;
        Assert.Equal(1, await dispatcher.DispatchPendingAsync(Ct));
        var (topic, key, @event) = Assert.Single(publisher.Published);
        Assert.Equal("torrent-specs", topic);
        Assert.Equal(new string('a', 40), key);
        var spec = Assert.IsType<TorrentSpecChanged>(@event);
        Assert.Equal([1, 2, 3], spec.Metainfo);
        Assert.Empty(await store.ListUnpublishedAsync(10, Ct));
        Assert.Equal(0, await dispatcher.DispatchPendingAsync(Ct));
    }

    [Fact]
    public async Task DispatchPending_LargeMetainfo_NotInlined()
    {
        var store = new SqliteCatalogStore($"Data Source={Path.Combine(_directory, "large.db")}");
        await store.InitializeAsync(Ct);
        await store.TryInsertTorrentAsync(new CatalogTorrent { InfoHash = new string('b', 40), Metainfo = new byte[100], Revision = 1 }, Ct);
        var publisher = new RecordingPublisher();
        var dispatcher = new OutboxDispatcher(store, new OutboxSignal(), Options.Create(new CatalogOptions { InlineMetainfoMaxBytes = 50 }),
            TimeProvider.System, NullLogger<OutboxDispatcher>.Instance, publisher);
        await dispatcher.DispatchPendingAsync(Ct);
        var spec = Assert.IsType<TorrentSpecChanged>(Assert.Single(publisher.Published).Event);
        Assert.Null(spec.Metainfo);
        Assert.True(spec.MetainfoAvailable);
    }

    [Fact]
    public async Task DispatchPending_ChangedWithinARequest_PublishesInThatRequestsTrace()
    {
        var store = new SqliteCatalogStore($"Data Source={Path.Combine(_directory, "trace.db")}");
        await store.InitializeAsync(Ct);
        await store.TryInsertTorrentAsync(new CatalogTorrent { InfoHash = new string('c', 40), Metainfo = [1], Revision = 1 }, Ct);
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name is "TorrentEdge.Catalog" or "test-request",
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        using var requests = new System.Diagnostics.ActivitySource("test-request");
        var signal = new OutboxSignal();
        System.Diagnostics.ActivityTraceId requestTrace;
        using (var request = requests.StartActivity("POST /api/torrents"))
        {
            requestTrace = request!.TraceId;
            signal.Notify(new string('c', 40));
        }
        var publisher = new TracePublisher();
        var dispatcher = new OutboxDispatcher(store, signal, Options.Create(new CatalogOptions()), TimeProvider.System,
            NullLogger<OutboxDispatcher>.Instance, publisher);

        Assert.Null(System.Diagnostics.Activity.Current);
        await dispatcher.DispatchPendingAsync(Ct);

        Assert.Equal(requestTrace, publisher.TraceIds.Single());
    }

    private sealed class TracePublisher : TorrentEdge.ServiceDefaults.Messaging.IIntegrationEventPublisher
    {
        public List<System.Diagnostics.ActivityTraceId?> TraceIds { get; } = [];

        public Task PublishAsync<TEvent>(string topic, string key, TEvent @event, CancellationToken cancellationToken = default)
            where TEvent : TorrentEdge.Contracts.IntegrationEvent
        {
            TraceIds.Add(System.Diagnostics.Activity.Current?.TraceId);
            return Task.CompletedTask;
        }
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The running service: a broker outage delays specs, never loses them.</summary>
public sealed class OutboxServiceTests(CatalogFactory factory) : IClassFixture<CatalogFactory>
{
    [Fact]
    public async Task AddTorrent_WhileBrokerDown_PublishedOnceItRecovers()
    {
        var user = await factory.UserAsync();
        factory.Publisher.Fail = true;
        var torrent = TestTorrents.Single("outage-" + Guid.NewGuid().ToString("N"));
        Assert.Equal(HttpStatusCode.Created, (await TorrentsApiCases.UploadAsync(user, torrent.Bytes)).StatusCode);
        await Task.Delay(500, TestContext.Current.CancellationToken);
        Assert.DoesNotContain(factory.Publisher.Published, p => p.Key == torrent.InfoHash);

        factory.Publisher.Fail = false;
        var spec = await factory.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash, TimeSpan.FromSeconds(30));
        Assert.Equal(1, spec.Revision);
    }
    private sealed class RestartedFactory(string directory, bool deleteDirectory) : CatalogFactory(directory, deleteDirectory);

    [Fact]
    public async Task AddTorrent_CatalogStopsBeforePublishing_NextStartPublishesIt()
    {
        var directory = Path.Combine(Path.GetTempPath(), "catalog-restart-" + Guid.NewGuid().ToString("N"));
        var torrent = TestTorrents.Single("restart-" + Guid.NewGuid().ToString("N"));
        await using (var first = new RestartedFactory(directory, deleteDirectory: false))
        {
            var user = await first.UserAsync();
            first.Publisher.Fail = true;
            Assert.Equal(HttpStatusCode.Created, (await TorrentsApiCases.UploadAsync(user, torrent.Bytes)).StatusCode);
            await Task.Delay(300, TestContext.Current.CancellationToken);
            // Stopped (as by a crash or a deploy) with the torrent stored and its spec not yet on Kafka.
        }

        await using var second = new RestartedFactory(directory, deleteDirectory: true);
        _ = second.Services;
        var spec = await second.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash, TimeSpan.FromSeconds(30));
        Assert.Equal(1, spec.Revision);
        Assert.Equal(torrent.Bytes, spec.Metainfo);
    }
}
