using StackExchange.Redis;
using TorrentEdge.Contracts.Live;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.Notifier.Live;
using TorrentEdge.Notifier.Tests.Support;

namespace TorrentEdge.Notifier.Tests.Live;

/// <summary>Both stores of the per-user totals behave alike; the Redis one against Debian's redis-server.</summary>
public sealed class QueueTotalsTests : IAsyncLifetime
{
    private const string A = "0123456789abcdef0123456789abcdef01234567";
    private const string B = "89abcdef0123456789abcdef0123456789abcdef";
    private RedisServer _redis = null!;
    private ConnectionMultiplexer _connection = null!;

    public async ValueTask InitializeAsync()
    {
        Assert.True(RedisServer.IsInstalled, "needs Debian's redis-server (scripts/test.sh installs it)");
        _redis = await RedisServer.StartAsync(TestContext.Current.CancellationToken);
        _connection = await ConnectionMultiplexer.ConnectAsync(_redis.ConnectionString);
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        _redis.Dispose();
    }

    public static TheoryData<string> Stores => ["memory", "redis"];

    private IQueueTotals Create(string store) => store == "redis" ? new RedisQueueTotals(_connection) : new InMemoryQueueTotals();

    [Theory]
    [MemberData(nameof(Stores))]
    public async Task SetAsync_StatesOfAUsersTorrents_CountsActiveAndQueuedAndSaysWhenTheyChange(string store)
    {
        var totals = Create(store);

        Assert.Equal((new QueueStats(1, 0), true), await totals.SetAsync("alice", A, TorrentState.Downloading));
        Assert.Equal((new QueueStats(1, 1), true), await totals.SetAsync("alice", B, TorrentState.Queued));
        // Downloading to seeding: both running, nothing to tell.
        Assert.Equal((new QueueStats(1, 1), false), await totals.SetAsync("alice", A, TorrentState.Seeding));
        Assert.Equal((new QueueStats(0, 1), true), await totals.SetAsync("alice", A, TorrentState.Paused));
        Assert.Equal((new QueueStats(0, 0), true), await totals.SetAsync("alice", B, null));
        // Another user's torrents are counted apart.
        Assert.Equal((new QueueStats(1, 0), true), await totals.SetAsync("bob", B, TorrentState.Checking));
        Assert.Equal((new QueueStats(0, 0), false), await totals.SetAsync("alice", B, null));
    }
}
