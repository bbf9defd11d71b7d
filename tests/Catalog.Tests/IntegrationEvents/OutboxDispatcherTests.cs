using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using TorrentEdge.Catalog.Apis;
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

    [Fact]
    public async Task AddTorrent_PublishedThenCatalogRestarts_NextStartPublishesItAgain()
    {
        // The embedded Kafka keeps its log in memory: after the suite restarts, torrent-specs is empty, and only the
        // store still knows the desired state.
        var directory = Path.Combine(Path.GetTempPath(), "catalog-republish-" + Guid.NewGuid().ToString("N"));
        var torrent = TestTorrents.Single("republish-" + Guid.NewGuid().ToString("N"));
        await using (var first = new RestartedFactory(directory, deleteDirectory: false))
        {
            var user = await first.UserAsync();
            Assert.Equal(HttpStatusCode.Created, (await TorrentsApiCases.UploadAsync(user, torrent.Bytes)).StatusCode);
            await first.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash, TimeSpan.FromSeconds(30));
            var store = first.Services.GetRequiredService<ICatalogStore>();
            await WaitUntilAsync(async () => (await store.ListUnpublishedAsync(10, TestContext.Current.CancellationToken)).Count == 0, "the spec acknowledged");
        }

        await using var second = new RestartedFactory(directory, deleteDirectory: true);
        _ = second.Services;
        // The tests share one broker, whose topic still holds the first publish: the restart must add a second.
        await WaitUntilAsync(() => Task.FromResult(second.Publisher.Published.Count(p => p.Key == torrent.InfoHash) >= 2), "the spec published again");
        var spec = Assert.IsType<TorrentSpecChanged>(second.Publisher.Published.Last(p => p.Key == torrent.InfoHash).Event);
        Assert.Equal(1, spec.Revision);
        Assert.Equal(torrent.Bytes, spec.Metainfo);
    }

    [Fact]
    public async Task Republish_Admin_QueuesEveryTorrentAndPublishesAgain()
    {
        var admin = await factory.AdminAsync();
        var user = await factory.UserAsync();
        var torrent = TestTorrents.Single("again-" + Guid.NewGuid().ToString("N"));
        Assert.Equal(HttpStatusCode.Created, (await TorrentsApiCases.UploadAsync(user, torrent.Bytes)).StatusCode);
        await factory.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash, TimeSpan.FromSeconds(30));
        var before = factory.Publisher.Published.Count(p => p.Key == torrent.InfoHash);

        var forbidden = await user.PostAsync("/api/admin/torrents/republish", null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        var response = await admin.PostAsync("/api/admin/torrents/republish", null, TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<RepublishResponse>(TestContext.Current.CancellationToken);
        Assert.True(body!.Queued >= 1, $"queued {body.Queued}");

        await WaitUntilAsync(() => Task.FromResult(factory.Publisher.Published.Count(p => p.Key == torrent.InfoHash) > before), "the spec published again");
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(30), what + ": not within 30 s");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }
}
