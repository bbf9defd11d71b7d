using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using TorrentEdge.Contracts.Live;
using TorrentEdge.Notifier.Live;

namespace TorrentEdge.Notifier.Hubs;

/// <summary>
/// Live torrent events for the signed-in user at <c>/hubs/torrents</c>, with the names and payloads of
/// <see cref="LiveEventNames"/>. Each connection gets its user's events; <see cref="Subscribe"/> adds the per-torrent
/// detail stream (verified pieces) of a torrent the user owns.
/// </summary>
public sealed partial class TorrentHub(HubConnectionLimiter limiter, UserConnections users, LiveConnections connections, IHubContext<TorrentHub> hub,
    IOptions<LiveOptions> options, ILogger<TorrentHub> logger) : Hub
{
    private const string CountedKey = "counted";

    public const string Path = "/hubs/torrents";

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
        users.Add(userId, Context);
        var connection = new SignalRLiveConnection(Context, userId, hub, options.Value.BufferCapacity, logger);
        Context.Items[typeof(SignalRLiveConnection)] = connection;
        connections.Add(connection);
        await base.OnConnectedAsync();
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        if (Context.Items.ContainsKey(CountedKey) && Context.UserIdentifier is { } userId)
        {
            limiter.Release(userId);
            users.Remove(userId, Context.ConnectionId);
        }
        if (Context.Items.TryGetValue(typeof(SignalRLiveConnection), out var item) && item is SignalRLiveConnection connection)
        {
            connections.Remove(connection);
            await connection.StopAsync();
        }
        await base.OnDisconnectedAsync(exception);
    }

    /// <summary>Receive the detail events (e.g. <c>torrent:piece</c>) of one torrent; only the caller's torrents ever reach it.</summary>
    public void Subscribe(string infoHash) => Live.Subscribe(ValidInfoHash(infoHash));

    public void Unsubscribe(string infoHash) => Live.Unsubscribe(ValidInfoHash(infoHash));

    private SignalRLiveConnection Live => Context.Items.TryGetValue(typeof(SignalRLiveConnection), out var item) && item is SignalRLiveConnection c
        ? c
        : throw new HubException("Not connected as a user.");

    public static string ValidInfoHash(string? infoHash)
        => infoHash is { Length: 40 } && infoHash.All(char.IsAsciiHexDigit)
            ? infoHash.ToLowerInvariant()
            : throw new HubException("An info-hash is 40 hexadecimal characters.");
}
