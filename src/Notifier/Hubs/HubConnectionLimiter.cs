using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace TorrentEdge.Notifier.Hubs;

/// <summary>Settings of the Notifier (configuration section <c>Notifier</c>).</summary>
public sealed class NotifierOptions
{
    public const string Section = "Notifier";

    /// <summary>Open hub connections one user may hold on one replica; 0: no limit.</summary>
    public int MaxConnectionsPerUser { get; set; } = 20;
}

/// <summary>
/// Counts each user's open hub connections, so one user (or a stolen token) cannot hold a replica's connections and memory.
/// Per replica: with N replicas a user may hold up to N times the limit, which bounds each replica all the same.
/// </summary>
public sealed class HubConnectionLimiter(IOptions<NotifierOptions> options)
{
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    public int Limit => options.Value.MaxConnectionsPerUser;

    public int OpenConnections(string userId) => _open.GetValueOrDefault(userId);

    /// <summary>True when the user is below the limit; the connection is then counted until <see cref="Release"/>.</summary>
    public bool TryAcquire(string userId)
    {
        if (Limit <= 0)
        {
            return true;
        }
        while (true)
        {
            var current = _open.GetValueOrDefault(userId);
            if (current >= Limit)
            {
                return false;
            }
            if (current == 0 ? _open.TryAdd(userId, 1) : _open.TryUpdate(userId, current + 1, current))
            {
                return true;
            }
        }
    }

    public void Release(string userId)
    {
        if (Limit <= 0)
        {
            return;
        }
        while (_open.TryGetValue(userId, out var current))
        {
            if (current <= 1 ? _open.TryRemove(new KeyValuePair<string, int>(userId, current)) : _open.TryUpdate(userId, current - 1, current))
            {
                return;
            }
        }
    }
}
