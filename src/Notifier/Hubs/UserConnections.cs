using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using TorrentEdge.ServiceDefaults.Auth;

namespace TorrentEdge.Notifier.Hubs;

/// <summary>
/// The open hub connections of each user on this replica, so that a user an admin disabled is cut off at once rather than
/// when their token expires. Every replica reads torrent-users itself, so each closes its own connections.
/// </summary>
public sealed partial class UserConnections(ILogger<UserConnections> logger, UserAccessList? list = null) : IUserAccessListener
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, HubCallerContext>> _byUser = new(StringComparer.Ordinal);

    public void Add(string userId, HubCallerContext context)
    {
        _byUser.GetOrAdd(userId, _ => new(StringComparer.Ordinal))[context.ConnectionId] = context;
        // Disabled after the token was checked but before this connection was listed: the listener missed it.
        if (list?.Find(userId) is { Disabled: true })
        {
            context.Abort();
        }
    }

    public void Remove(string userId, string connectionId)
    {
        if (_byUser.TryGetValue(userId, out var connections) && connections.TryRemove(connectionId, out _) && connections.IsEmpty)
        {
            // Only if still empty: a connection added in between keeps the entry.
            _byUser.TryRemove(new KeyValuePair<string, ConcurrentDictionary<string, HubCallerContext>>(userId, connections));
        }
    }

    public int Count(string userId) => _byUser.TryGetValue(userId, out var connections) ? connections.Count : 0;

    /// <summary>Aborts every open connection of a user who was just disabled.</summary>
    public void OnUserAccessChanged(UserAccess access)
    {
        if (!access.Disabled || !_byUser.TryGetValue(access.UserId, out var connections))
        {
            return;
        }
        foreach (var context in connections.Values)
        {
            context.Abort();
        }
        LogClosed(logger, connections.Count, access.UserId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Closed {Count} hub connections of disabled user {UserId}")]
    private static partial void LogClosed(ILogger logger, int count, string userId);
}
