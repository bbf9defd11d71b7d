using StackExchange.Redis;
using TorrentEdge.Contracts.Live;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Notifier.Live;

/// <summary>
/// Each user's torrents by category (running, queued, other), so that <c>queue:updated</c> carries the user's totals.
/// Fed by the states in torrent-events; with several replicas (each consuming some partitions) the counts live in Redis.
/// </summary>
public interface IQueueTotals
{
    /// <summary>Records the torrent's state (null: removed) for the user; the totals after it, and whether they changed.</summary>
    Task<(QueueStats Stats, bool Changed)> SetAsync(string userId, string infoHash, TorrentState? state);
}

public static class QueueCategory
{
    public const char Active = 'a';
    public const char Queued = 'q';
    public const char Other = 'o';

    /// <summary>Running torrents count as active (they hold a slot of the worker's queue); paused, stopped or failed ones as neither.</summary>
    public static char Of(TorrentState state) => state switch
    {
        TorrentState.FetchingMetadata or TorrentState.Checking or TorrentState.Downloading or TorrentState.Seeding => Active,
        TorrentState.Queued => Queued,
        _ => Other,
    };
}

/// <summary>One replica: the totals in memory.</summary>
public sealed class InMemoryQueueTotals : IQueueTotals
{
    private readonly Dictionary<string, Dictionary<string, char>> _users = new(StringComparer.Ordinal);

    public Task<(QueueStats Stats, bool Changed)> SetAsync(string userId, string infoHash, TorrentState? state)
    {
        lock (_users)
        {
            if (!_users.TryGetValue(userId, out var torrents))
            {
                _users[userId] = torrents = new(StringComparer.Ordinal);
            }
            var had = torrents.TryGetValue(infoHash, out var old);
            bool changed;
            if (state is { } s)
            {
                var category = QueueCategory.Of(s);
                changed = !had || old != category;
                torrents[infoHash] = category;
            }
            else
            {
                changed = had;
                torrents.Remove(infoHash);
            }
            var stats = new QueueStats(torrents.Values.Count(c => c == QueueCategory.Active), torrents.Values.Count(c => c == QueueCategory.Queued));
            return Task.FromResult((stats, changed));
        }
    }
}

/// <summary>Several replicas: one Redis hash per user (info-hash to category), set and counted in one script.</summary>
public sealed class RedisQueueTotals(IConnectionMultiplexer redis) : IQueueTotals
{
    private const string Script = """
        local old = redis.call('HGET', KEYS[1], ARGV[1])
        if ARGV[2] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
        local a, q = 0, 0
        for _, v in ipairs(redis.call('HVALS', KEYS[1])) do
          if v == 'a' then a = a + 1 elseif v == 'q' then q = q + 1 end
        end
        return {a, q, old or ''}
        """;

    public async Task<(QueueStats Stats, bool Changed)> SetAsync(string userId, string infoHash, TorrentState? state)
    {
        var category = state is { } s ? QueueCategory.Of(s).ToString() : "";
        var result = (RedisResult[])(await redis.GetDatabase().ScriptEvaluateAsync(Script,
            [new RedisKey("TorrentEdge.Notifier:torrents:" + userId)], [infoHash, category]).ConfigureAwait(false))!;
        var old = (string?)result[2] ?? "";
        return (new QueueStats((int)result[0], (int)result[1]), old != category);
    }
}
