using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.IntegrationEvents;
using TorrentEdge.Catalog.Model;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Catalog.Tests.IntegrationEvents;

public sealed class SpecTopicWatchTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "catalog-watch-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Check_EndOffsetsGoDown_EveryTorrentQueuedAgain()
    {
        var store = new SqliteCatalogStore($"Data Source={Path.Combine(_directory, "watch.db")}");
        await store.InitializeAsync(Ct);
        await store.TryInsertTorrentAsync(new CatalogTorrent { InfoHash = new string('a', 40), Metainfo = [1], Revision = 3 }, Ct);
        await store.MarkPublishedAsync(new string('a', 40), 3, Ct);
        var offsets = new ScriptedOffsets();
        var watch = new SpecTopicWatch(store, new OutboxSignal(), offsets, Options.Create(new CatalogOptions()), TimeProvider.System,
            NullLogger<SpecTopicWatch>.Instance);

        offsets.Next = 5;
        Assert.False(await watch.CheckAsync(Ct));
        offsets.Next = 9;
        Assert.False(await watch.CheckAsync(Ct));
        // Unreachable brokers say nothing about the topic.
        offsets.Next = null;
        Assert.False(await watch.CheckAsync(Ct));
        Assert.Empty(await store.ListUnpublishedAsync(10, Ct));

        // Recreated: fewer records in all than before.
        offsets.Next = 0;
        Assert.True(await watch.CheckAsync(Ct));
        var pending = Assert.Single(await store.ListUnpublishedAsync(10, Ct));
        Assert.Equal(3, pending.Revision);

        // Growing again from there is normal.
        offsets.Next = 1;
        Assert.False(await watch.CheckAsync(Ct));
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

    private sealed class ScriptedOffsets : ITopicEndOffsets
    {
        public long? Next { get; set; }

        public Task<long?> SumAsync(string topic, CancellationToken cancellationToken) => Task.FromResult(Next);
    }
}
