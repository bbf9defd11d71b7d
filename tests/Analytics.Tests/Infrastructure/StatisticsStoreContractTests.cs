using TorrentEdge.Analytics.Infrastructure;
using TorrentEdge.Analytics.Model;
using TorrentEdge.Catalog.Tests.Infrastructure;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Analytics.Tests.Infrastructure;

/// <summary>The behaviour every <see cref="IStatisticsStore"/> must have; run against each implementation.</summary>
public abstract class StatisticsStoreContractTests
{
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    private const string A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string B = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    private static readonly DateTimeOffset Noon = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A new, empty, initialised store.</summary>
    protected abstract Task<IStatisticsStore> CreateStoreAsync();

    /// <summary>The same store opened again, as after a restart.</summary>
    protected abstract Task<IStatisticsStore> ReopenAsync();

    private static TorrentRecord Record(string hash, long downloaded) => new()
    {
        InfoHash = hash,
        FirstSeen = Noon,
        Owners = ["alice", "bob"],
        Name = "debian.iso",
        State = TorrentState.Seeding,
        Progress = 1,
        TotalBytes = 4096,
        BytesDownloaded = downloaded,
        BytesUploaded = 7,
        Completed = true,
        CompletedAt = Noon.AddMinutes(3),
        LastUpdated = Noon.AddMinutes(4),
    };

    [Fact]
    public async Task Record_ThenReopened_TorrentsLoadAsWritten()
    {
        var store = await CreateStoreAsync();
        Assert.True(await store.RecordAsync(Guid.NewGuid(), Record(A, 100), null, Ct));
        Assert.True(await store.RecordAsync(Guid.NewGuid(), Record(A, 4096), null, Ct));
        Assert.True(await store.RecordAsync(Guid.NewGuid(), Record(B, 1), null, Ct));

        var reopened = await ReopenAsync();
        var loaded = (await reopened.LoadTorrentsAsync(Ct)).OrderBy(t => t.InfoHash, StringComparer.Ordinal).ToList();

        Assert.Equal([A, B], loaded.Select(t => t.InfoHash));
        var a = loaded[0];
        Assert.Equal((4096L, 7L, TorrentState.Seeding, true), (a.BytesDownloaded, a.BytesUploaded, a.State, a.Completed));
        Assert.Equal(["alice", "bob"], a.Owners);
        Assert.Equal(Noon.AddMinutes(3), a.CompletedAt);
        Assert.Equal("debian.iso", a.Name);
    }

    [Fact]
    public async Task Record_SameEventIdTwice_SecondChangesNothing()
    {
        var store = await CreateStoreAsync();
        var id = Guid.NewGuid();
        Assert.False(await store.IsRecordedAsync(id, Ct));

        Assert.True(await store.RecordAsync(id, Record(A, 100), new RateObservation(A, Noon, 1000, 10), Ct));
        Assert.True(await store.IsRecordedAsync(id, Ct));
        Assert.False(await store.RecordAsync(id, Record(A, 999), new RateObservation(A, Noon, 5000, 50), Ct));

        Assert.Equal(100, Assert.Single(await store.LoadTorrentsAsync(Ct)).BytesDownloaded);
        foreach (var step in new[] { HistoryStep.Second, HistoryStep.Minute, HistoryStep.Hour })
        {
            var point = Assert.Single(await store.GetRateHistoryAsync([A], step, Noon.AddHours(-1), Noon.AddHours(1), Ct));
            Assert.Equal((1000L, 10L), (point.DownloadRate, point.UploadRate));
        }
    }

    [Fact]
    public async Task RateHistory_ThreeSteps_AveragedPerBucketSummedOverTorrents()
    {
        var store = await CreateStoreAsync();
        await store.RecordAsync(Guid.NewGuid(), Record(A, 1), new RateObservation(A, Noon, 100, 1), Ct);
        await store.RecordAsync(Guid.NewGuid(), Record(A, 2), new RateObservation(A, Noon.AddSeconds(30), 300, 3), Ct);
        await store.RecordAsync(Guid.NewGuid(), Record(B, 1), new RateObservation(B, Noon.AddSeconds(30.4), 50, 5), Ct);
        await store.RecordAsync(Guid.NewGuid(), Record(A, 3), new RateObservation(A, Noon.AddMinutes(61), 700, 7), Ct);

        var seconds = await store.GetRateHistoryAsync([A, B], HistoryStep.Second, Noon, Noon.AddMinutes(1), Ct);
        Assert.Equal([(Noon, 100L, 1L), (Noon.AddSeconds(30), 350L, 8L)], seconds.Select(p => (p.At, p.DownloadRate, p.UploadRate)));

        var minutes = await store.GetRateHistoryAsync([A, B], HistoryStep.Minute, Noon, Noon.AddHours(2), Ct);
        Assert.Equal([(Noon, 250L, 7L), (Noon.AddMinutes(61), 700L, 7L)], minutes.Select(p => (p.At, p.DownloadRate, p.UploadRate)));

        var hours = await store.GetRateHistoryAsync([A], HistoryStep.Hour, Noon, Noon.AddHours(2), Ct);
        Assert.Equal([(Noon, 200L), (Noon.AddHours(1), 700L)], hours.Select(p => (p.At, p.DownloadRate)));

        // Only the torrents asked for, only the range asked for.
        Assert.Equal([50L], (await store.GetRateHistoryAsync([B], HistoryStep.Second, Noon, Noon.AddMinutes(1), Ct)).Select(p => p.DownloadRate));
        Assert.Empty(await store.GetRateHistoryAsync([A, B], HistoryStep.Second, Noon.AddSeconds(31), Noon.AddMinutes(1), Ct));
        Assert.Empty(await store.GetRateHistoryAsync([], HistoryStep.Second, Noon, Noon.AddMinutes(1), Ct));
    }

    [Fact]
    public async Task Prune_SecondsAfterAnHour_MinutesAfterADay_HoursKept()
    {
        var store = await CreateStoreAsync();
        var id = Guid.NewGuid();
        await store.RecordAsync(id, Record(A, 1), new RateObservation(A, Noon, 100, 1), Ct);

        await store.PruneAsync(Noon.AddMinutes(59), Ct);
        Assert.Single(await store.GetRateHistoryAsync([A], HistoryStep.Second, Noon, Noon.AddDays(30), Ct));

        await store.PruneAsync(Noon.AddMinutes(61), Ct);
        Assert.Empty(await store.GetRateHistoryAsync([A], HistoryStep.Second, Noon, Noon.AddDays(30), Ct));
        Assert.Single(await store.GetRateHistoryAsync([A], HistoryStep.Minute, Noon, Noon.AddDays(30), Ct));

        await store.PruneAsync(Noon.AddDays(1).AddMinutes(1), Ct);
        Assert.Empty(await store.GetRateHistoryAsync([A], HistoryStep.Minute, Noon, Noon.AddDays(30), Ct));
        Assert.Single(await store.GetRateHistoryAsync([A], HistoryStep.Hour, Noon, Noon.AddDays(30), Ct));

        // Event ids are kept for a week from when they were recorded (now), then forgotten.
        await store.PruneAsync(DateTimeOffset.UtcNow.AddDays(6), Ct);
        Assert.True(await store.IsRecordedAsync(id, Ct));
        await store.PruneAsync(DateTimeOffset.UtcNow.AddDays(8), Ct);
        Assert.False(await store.IsRecordedAsync(id, Ct));
        Assert.Single(await store.GetRateHistoryAsync([A], HistoryStep.Hour, Noon, Noon.AddDays(30), Ct));
    }
}

public sealed class SqliteStatisticsStoreTests : StatisticsStoreContractTests, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "analytics-store-" + Guid.NewGuid().ToString("N"));

    private string ConnectionString => $"Data Source={Path.Combine(_directory, "analytics.db")}";

    protected override async Task<IStatisticsStore> CreateStoreAsync()
    {
        var store = new SqliteStatisticsStore(ConnectionString);
        await store.InitializeAsync(Ct);
        return store;
    }

    protected override Task<IStatisticsStore> ReopenAsync() => CreateStoreAsync();

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

/// <summary>The store contract on MongoDB (a server from <c>TORRENTEDGE_TEST_MONGODB</c> or Testcontainers; skipped otherwise).</summary>
public sealed class MongoStatisticsStoreTests : StatisticsStoreContractTests
{
    private readonly string _database = "analytics_test_" + Guid.NewGuid().ToString("N");

    protected override async Task<IStatisticsStore> CreateStoreAsync()
    {
        var store = new MongoStatisticsStore(await MongoServer.GetConnectionStringAsync(), _database);
        await store.InitializeAsync(Ct);
        return store;
    }

    protected override Task<IStatisticsStore> ReopenAsync() => CreateStoreAsync();
}
