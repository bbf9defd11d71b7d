using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using TorrentEdge.Notifier.Infrastructure;
using TorrentEdge.Notifier.Live;

namespace TorrentEdge.Notifier.SocketIO;

/// <summary>
/// The Engine.IO v4 endpoint at <see cref="SocketIoOptions.Path"/>: handshakes, polls, posts and WebSocket upgrades,
/// dispatched to the <see cref="SocketIoSession"/> named by <c>sid</c>. Errors answer with Engine.IO's JSON error codes.
/// </summary>
public sealed partial class SocketIoServer(
    IOptions<SocketIoOptions> options,
    IOptions<LiveOptions> live,
    AccessTokenValidator tokens,
    LiveConnections connections,
    TimeProvider time,
    ILoggerFactory loggers)
{
    private readonly ConcurrentDictionary<string, SocketIoSession> _sessions = new(StringComparer.Ordinal);
    private readonly ILogger _logger = loggers.CreateLogger<SocketIoSession>();

    public int SessionCount => _sessions.Count;

    public async Task HandleAsync(HttpContext http)
    {
        var query = http.Request.Query;
        if (query["EIO"] != "4")
        {
            await ErrorAsync(http, 5, "Unsupported protocol version");
            return;
        }
        var transport = query["transport"].ToString();
        if (transport is not ("polling" or "websocket"))
        {
            await ErrorAsync(http, 0, "Transport unknown");
            return;
        }
        var sid = query["sid"].ToString();
        if (sid.Length == 0)
        {
            await HandshakeAsync(http, transport);
            return;
        }
        if (!_sessions.TryGetValue(sid, out var session) || session.IsClosed)
        {
            await ErrorAsync(http, 1, "Session ID unknown");
            return;
        }
        if (transport == "websocket")
        {
            if (!http.WebSockets.IsWebSocketRequest)
            {
                await ErrorAsync(http, 3, "Bad request");
                return;
            }
            using var socket = await http.WebSockets.AcceptWebSocketAsync();
            await session.UpgradeAsync(socket);
            return;
        }
        if (HttpMethods.IsGet(http.Request.Method))
        {
            await session.PollAsync(http);
        }
        else if (HttpMethods.IsPost(http.Request.Method))
        {
            await session.ReceivePollAsync(http);
        }
        else
        {
            await ErrorAsync(http, 2, "Bad handshake method");
        }
    }

    private async Task HandshakeAsync(HttpContext http, string transport)
    {
        if (transport == "websocket")
        {
            if (!http.WebSockets.IsWebSocketRequest)
            {
                await ErrorAsync(http, 3, "Bad request");
                return;
            }
            using var socket = await http.WebSockets.AcceptWebSocketAsync();
            var session = NewSession();
            await session.RunWebSocketAsync(socket);
            return;
        }
        if (!HttpMethods.IsGet(http.Request.Method))
        {
            await ErrorAsync(http, 2, "Bad handshake method");
            return;
        }
        var polling = NewSession();
        http.Response.ContentType = "text/plain; charset=UTF-8";
        await http.Response.WriteAsync(polling.OpenPacket(canUpgrade: true), http.RequestAborted);
    }

    private SocketIoSession NewSession()
    {
        var session = new SocketIoSession(this, options.Value, tokens, connections, live.Value.BufferCapacity, time, _logger);
        _sessions[session.Id] = session;
        return session;
    }

    internal void Remove(SocketIoSession session) => _sessions.TryRemove(session.Id, out _);

    private static Task ErrorAsync(HttpContext http, int code, string message)
    {
        http.Response.StatusCode = code == 2 ? StatusCodes.Status403Forbidden : StatusCodes.Status400BadRequest;
        return http.Response.WriteAsJsonAsync(new { code, message }, http.RequestAborted);
    }
}
