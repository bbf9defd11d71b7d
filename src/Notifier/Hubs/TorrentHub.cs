using Microsoft.AspNetCore.SignalR;

namespace TorrentEdge.Notifier.Hubs;

/// <summary>
/// Live torrent events for the signed-in user at <c>/hubs/torrents</c>. Each connection joins its user's group on connect;
/// <see cref="Subscribe"/> adds the per-torrent detail stream (verified pieces) of a torrent the user owns.
/// </summary>
public sealed class TorrentHub(HubConnectionLimiter limiter, UserConnections connections) : Hub
{
    private const string CountedKey = "counted";

    public const string Path = "/hubs/torrents";

    public static string UserGroup(string userId) => "user:" + userId;

    /// <summary>Per torrent and per user, so a subscription only ever yields events of a torrent that user owns (no lookup needed).</summary>
    public static string TorrentGroup(string infoHash, string userId) => "torrent:" + infoHash.ToLowerInvariant() + ":" + userId;

    public override async Task OnConnectedAsync()
    {
        if (Context.UserIdentifier is not { Length: > 0 } userId)
        {
            // Anonymous connections have nobody to be told about.
            Context.Abort();
            return;
        }
        // The negotiate request was refused with a problem at the limit already; this catches connections that raced
        // past it together, and clients that skip negotiation.
        if (!limiter.TryAcquire(userId))
        {
            Context.Abort();
            return;
        }
        Context.Items[CountedKey] = true;
        // Tracked so that disabling the user closes it (UserConnections hears torrent-users).
        connections.Add(userId, Context);
        await Groups.AddToGroupAsync(Context.ConnectionId, UserGroup(userId), Context.ConnectionAborted);
        await base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.ContainsKey(CountedKey) && Context.UserIdentifier is { } userId)
        {
            limiter.Release(userId);
            connections.Remove(userId, Context.ConnectionId);
        }
        return base.OnDisconnectedAsync(exception);
    }

    /// <summary>Receive the detail events (e.g. <c>torrent:piece</c>) of one torrent, if it is the caller's.</summary>
    public Task Subscribe(string infoHash)
        => Groups.AddToGroupAsync(Context.ConnectionId, TorrentGroup(ValidInfoHash(infoHash), Context.UserIdentifier!), Context.ConnectionAborted);

    public Task Unsubscribe(string infoHash)
        => Groups.RemoveFromGroupAsync(Context.ConnectionId, TorrentGroup(ValidInfoHash(infoHash), Context.UserIdentifier!), Context.ConnectionAborted);

    private static string ValidInfoHash(string infoHash)
        => infoHash is { Length: 40 } && infoHash.All(char.IsAsciiHexDigit)
            ? infoHash
            : throw new HubException("An info-hash is 40 hexadecimal characters.");
}

/// <summary>The client-side event names (those of the original design).</summary>
public static class TorrentHubEvents
{
    public const string Added = "torrent:added";
    public const string Progress = "torrent:progress";
    public const string Piece = "torrent:piece";
    public const string Complete = "torrent:complete";
    public const string Seeding = "torrent:seeding";
    public const string Error = "torrent:error";
    public const string QueueUpdated = "queue:updated";

    // Beyond the original set: state changes, removals and late metadata, which a UI also shows.
    public const string State = "torrent:state";
    public const string Removed = "torrent:removed";
    public const string Metadata = "torrent:metadata";
}
