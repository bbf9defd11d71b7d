using System.Collections.Concurrent;

namespace TorrentEdge.Notifier.Live;

/// <summary>A client connected to this replica, on either transport, once its user is known.</summary>
public interface ILiveConnection
{
    string Id { get; }

    string UserId { get; }

    /// <summary>Whether the client asked for the detail events (pieces) of this torrent.</summary>
    bool IsSubscribed(string infoHash);

    /// <summary>Queues an event without waiting; a connection that cannot keep up closes itself.</summary>
    void Enqueue(LiveMessage message);
}

/// <summary>
/// The connections of this replica by user. Every replica receives every event (from the bus) and hands it to its own
/// connections of the event's users: that is the per-user isolation, on both transports.
/// </summary>
public sealed partial class LiveConnections(ILogger<LiveConnections> logger)
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, ILiveConnection>> _byUser = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ILiveConnection> _byId = new(StringComparer.Ordinal);

    public int Count => _byId.Count;

    public void Add(ILiveConnection connection)
    {
        _byId[connection.Id] = connection;
        _byUser.GetOrAdd(connection.UserId, _ => new(StringComparer.Ordinal))[connection.Id] = connection;
    }

    public void Remove(ILiveConnection connection)
    {
        _byId.TryRemove(connection.Id, out _);
        if (_byUser.TryGetValue(connection.UserId, out var mine))
        {
            mine.TryRemove(connection.Id, out _);
            // An empty user entry left behind costs a few bytes until the user connects again; removing it here could race with Add.
        }
    }

    public ILiveConnection? Find(string id) => _byId.GetValueOrDefault(id);

    /// <summary>Hands the event to each local connection of its users (subscribed ones only for detail events).</summary>
    public int Dispatch(LiveMessage message)
    {
        var delivered = 0;
        foreach (var user in message.Users)
        {
            if (!_byUser.TryGetValue(user, out var connections))
            {
                continue;
            }
            foreach (var connection in connections.Values)
            {
                if (message.SubscribersOnly && !connection.IsSubscribed(message.InfoHash))
                {
                    continue;
                }
                try
                {
                    connection.Enqueue(message);
                    delivered++;
                }
                catch (Exception ex)
                {
                    LogEnqueueFailed(logger, ex, message.Name, connection.Id);
                }
            }
        }
        return delivered;
    }

    [LoggerMessage(LogLevel.Warning, "Queueing {Event} for connection {ConnectionId} failed")]
    private static partial void LogEnqueueFailed(ILogger logger, Exception exception, string @event, string connectionId);
}
