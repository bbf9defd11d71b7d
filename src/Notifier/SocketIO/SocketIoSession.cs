using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using TorrentEdge.Notifier.Infrastructure;
using TorrentEdge.Notifier.Live;

namespace TorrentEdge.Notifier.SocketIO;

/// <summary>
/// One Engine.IO v4 session carrying the default Socket.IO namespace: HTTP long-polling first (or WebSocket straight away),
/// upgraded to WebSocket when the client probes; server pings; <c>authenticate</c>, <c>subscribe:torrent</c>,
/// <c>unsubscribe:torrent</c>; closed when its token expires. Once authenticated it is a live connection of its user,
/// with its own bounded buffer (<see cref="OutboundBuffer"/>) drained by the transport of the moment.
/// </summary>
public sealed partial class SocketIoSession : ILiveConnection, IAsyncDisposable
{
    private static readonly byte[] Separator = [(byte)EngineIoPacketType.RecordSeparator];

    private readonly SocketIoServer _server;
    private readonly SocketIoOptions _options;
    private readonly AccessTokenValidator _tokens;
    private readonly LiveConnections _connections;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly OutboundBuffer _events;
    private readonly ConcurrentQueue<string> _control = new();
    private readonly ConcurrentDictionary<string, byte> _subscriptions = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _closed = new();
    // Reads end when the client answers our close frame; cancelling one aborts the socket and drops what is still in
    // Kestrel's output, so it is cancelled only when the client does not answer in time.
    private readonly CancellationTokenSource _readAbort = new();
    private readonly Lock _gate = new();
    private CancellationTokenSource? _pendingPoll;
    private WebSocket? _webSocket;
    private bool _upgraded;
    private bool _closeRequested;
    private bool _namespaceConnected;
    private string? _userId;
    private ITimer? _expiry;
    private ITimer? _authDeadline;
    private long _lastPongTicks;
    private int _controlCount;

    public SocketIoSession(SocketIoServer server, SocketIoOptions options, AccessTokenValidator tokens, LiveConnections connections,
        int bufferCapacity, TimeProvider time, ILogger logger)
    {
        _server = server;
        _options = options;
        _tokens = tokens;
        _connections = connections;
        _time = time;
        _logger = logger;
        _events = new OutboundBuffer(bufferCapacity);
        Id = NewId();
        SocketId = NewId();
        _lastPongTicks = time.GetTimestamp();
        _ = Task.Run(HeartbeatAsync);
    }

    public string Id { get; }

    /// <summary>The Socket.IO socket's own id (distinct from the Engine.IO session id, as the protocol asks).</summary>
    public string SocketId { get; }

    public string UserId => _userId ?? "";

    public bool IsClosed => _closed.IsCancellationRequested;

    public bool IsSubscribed(string infoHash) => _subscriptions.ContainsKey(infoHash);

    public void Enqueue(LiveMessage message)
    {
        if (!_events.TryEnqueue(message))
        {
            LogOverflow(_logger, Id, _events.Capacity);
            _ = CloseAsync("too slow");
        }
    }

    /// <summary>The Engine.IO open packet.</summary>
    public string OpenPacket(bool canUpgrade) => EngineIoPacketType.Open + JsonSerializer.Serialize(new
    {
        sid = Id,
        upgrades = canUpgrade ? new[] { "websocket" } : [],
        pingInterval = (int)_options.PingInterval.TotalMilliseconds,
        pingTimeout = (int)_options.PingTimeout.TotalMilliseconds,
        maxPayload = _options.MaxPayload,
    });

    // ---- long-polling ----

    /// <summary>GET: waits for packets and answers them in one body; "6" when the session moved to WebSocket meanwhile.</summary>
    public async Task PollAsync(HttpContext http)
    {
        CancellationTokenSource poll;
        lock (_gate)
        {
            if (_pendingPoll is not null || _upgraded)
            {
                // Two polls at once, or polling after the upgrade: the protocol says the session is broken.
                http.Response.StatusCode = StatusCodes.Status400BadRequest;
                _ = CloseAsync("overlapping polls");
                return;
            }
            poll = _pendingPoll = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, _closed.Token);
        }
        var body = new ArrayBufferWriter<byte>(1024);
        try
        {
            while (true)
            {
                if (Collect(body, max: 256))
                {
                    break;
                }
                if (_closeRequested)
                {
                    // Anything queued with the goodbye goes before the close packet.
                    if (Collect(body, max: 256))
                    {
                        body.Write(Separator);
                    }
                    body.Write([(byte)EngineIoPacketType.Close]);
                    break;
                }
                try
                {
                    await _events.WaitAsync(poll.Token);
                }
                catch (OperationCanceledException)
                {
                    if (_upgraded)
                    {
                        body.Write([(byte)EngineIoPacketType.Noop]);
                        break;
                    }
                    if (_closeRequested || IsClosed)
                    {
                        body.Write([(byte)EngineIoPacketType.Close]);
                        break;
                    }
                    return;
                }
            }
            http.Response.ContentType = "text/plain; charset=UTF-8";
            await http.Response.Body.WriteAsync(body.WrittenMemory, http.RequestAborted);
        }
        finally
        {
            lock (_gate)
            {
                _pendingPoll = null;
            }
            poll.Dispose();
            if (_closeRequested)
            {
                await DisposeAsync();
            }
        }
    }

    /// <summary>POST: the client's packets, separated by the record separator.</summary>
    public async Task ReceivePollAsync(HttpContext http)
    {
        if (http.Request.ContentLength > _options.MaxPayload)
        {
            http.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            await CloseAsync("payload too large");
            return;
        }
        using var reader = new StreamReader(http.Request.Body, Encoding.UTF8);
        var buffer = new char[Math.Min(_options.MaxPayload, 64 * 1024)];
        var text = new StringBuilder();
        int read;
        while ((read = await reader.ReadAsync(buffer, http.RequestAborted)) > 0)
        {
            text.Append(buffer, 0, read);
            if (text.Length > _options.MaxPayload)
            {
                http.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
                await CloseAsync("payload too large");
                return;
            }
        }
        foreach (var packet in text.ToString().Split(EngineIoPacketType.RecordSeparator))
        {
            await HandleEnginePacketAsync(packet);
        }
        http.Response.ContentType = "text/html";
        await http.Response.WriteAsync("ok", http.RequestAborted);
    }

    // ---- WebSocket ----

    /// <summary>A session that starts on WebSocket: the open packet goes first on it.</summary>
    public async Task RunWebSocketAsync(WebSocket socket)
    {
        lock (_gate)
        {
            _webSocket = socket;
            _upgraded = true;
        }
        await SendTextAsync(socket, Encoding.UTF8.GetBytes(OpenPacket(canUpgrade: false)));
        await RunAsync(socket);
    }

    /// <summary>The upgrade of a polling session: probe, answer, then "5" moves every later packet to the socket.</summary>
    public async Task UpgradeAsync(WebSocket socket)
    {
        var probe = await ReceiveTextAsync(socket);
        if (probe != "2probe")
        {
            await socket.CloseAsync(WebSocketCloseStatus.ProtocolError, "expected a probe", CancellationToken.None);
            return;
        }
        await SendTextAsync(socket, "3probe"u8.ToArray());
        var upgrade = await ReceiveTextAsync(socket);
        if (upgrade != EngineIoPacketType.Upgrade.ToString())
        {
            await socket.CloseAsync(WebSocketCloseStatus.ProtocolError, "expected an upgrade", CancellationToken.None);
            return;
        }
        lock (_gate)
        {
            _webSocket = socket;
            _upgraded = true;
            // The poll waiting now answers "noop" and the client stops polling.
            _pendingPoll?.Cancel();
        }
        await RunAsync(socket);
    }

    private async Task RunAsync(WebSocket socket)
    {
        var writer = Task.Run(() => WriteWebSocketAsync(socket));
        try
        {
            while (!IsClosed && socket.State == WebSocketState.Open)
            {
                var text = await ReceiveTextAsync(socket);
                if (text is null)
                {
                    break;
                }
                await HandleEnginePacketAsync(text);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
        {
        }
        finally
        {
            await DisposeAsync();
            await writer;
        }
    }

    private async Task WriteWebSocketAsync(WebSocket socket)
    {
        var batch = new List<LiveMessage>(64);
        try
        {
            while (!IsClosed)
            {
                while (_control.TryDequeue(out var packet))
                {
                    Interlocked.Decrement(ref _controlCount);
                    await SendTextAsync(socket, Encoding.UTF8.GetBytes(packet));
                }
                if (_events.Drain(batch, 64) > 0)
                {
                    foreach (var message in batch)
                    {
                        await SendTextAsync(socket, message.SocketIoFrame);
                    }
                    batch.Clear();
                    continue;
                }
                if (_closeRequested)
                {
                    if (!_control.IsEmpty)
                    {
                        // The goodbye was queued after the queue was looked at, before the flag was: send it first.
                        continue;
                    }
                    await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", _closed.Token);
                    break;
                }
                await _events.WaitAsync(_closed.Token);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        await DisposeAsync();
    }

    private async Task SendTextAsync(WebSocket socket, ReadOnlyMemory<byte> text)
        => await socket.SendAsync(text, WebSocketMessageType.Text, endOfMessage: true, _closed.Token);

    private async Task<string?> ReceiveTextAsync(WebSocket socket)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        var message = new ArrayBufferWriter<byte>(256);
        try
        {
            while (true)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), _readAbort.Token);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return null;
                }
                message.Write(buffer.AsSpan(0, result.Count));
                if (message.WrittenCount > _options.MaxPayload)
                {
                    await socket.CloseAsync(WebSocketCloseStatus.MessageTooBig, "maxPayload", CancellationToken.None);
                    return null;
                }
                if (result.EndOfMessage)
                {
                    // Binary frames carry attachments, which this interface does not take.
                    return result.MessageType == WebSocketMessageType.Text ? Encoding.UTF8.GetString(message.WrittenSpan) : "";
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Control packets, then events, separated for a polling body; false when there was nothing.</summary>
    private bool Collect(ArrayBufferWriter<byte> body, int max)
    {
        var any = false;
        while (_control.TryDequeue(out var packet))
        {
            Interlocked.Decrement(ref _controlCount);
            if (any)
            {
                body.Write(Separator);
            }
            body.Write(Encoding.UTF8.GetBytes(packet));
            any = true;
        }
        var batch = new List<LiveMessage>();
        _events.Drain(batch, max);
        foreach (var message in batch)
        {
            if (any)
            {
                body.Write(Separator);
            }
            body.Write(message.SocketIoFrame.Span);
            any = true;
        }
        return any;
    }

    private void Send(string packet)
    {
        if (Interlocked.Increment(ref _controlCount) > _options.ControlCapacity)
        {
            // A client that keeps asking without reading answers fills only this queue, then loses the connection.
            Interlocked.Decrement(ref _controlCount);
            LogOverflow(_logger, Id, _options.ControlCapacity);
            _ = CloseAsync("too slow");
            return;
        }
        _control.Enqueue(packet);
        _events.Signal();
    }

    // ---- Engine.IO and Socket.IO packets ----

    private async Task HandleEnginePacketAsync(string packet)
    {
        if (packet.Length == 0)
        {
            return;
        }
        try
        {
            await DispatchEnginePacketAsync(packet);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPacketFailed(_logger, ex, Id);
            await CloseAsync("server error");
        }
    }

    private async Task DispatchEnginePacketAsync(string packet)
    {
        switch (packet[0])
        {
            case EngineIoPacketType.Close:
                await DisposeAsync();
                break;
            case EngineIoPacketType.Ping:
                Send(EngineIoPacketType.Pong + packet[1..]);
                break;
            case EngineIoPacketType.Pong:
                Interlocked.Exchange(ref _lastPongTicks, _time.GetTimestamp());
                break;
            case EngineIoPacketType.Message:
                await HandleSocketIoAsync(packet.AsMemory(1));
                break;
        }
    }

    private async Task HandleSocketIoAsync(ReadOnlyMemory<char> text)
    {
        if (!SocketIoPacket.TryParse(text.Span, out var packet))
        {
            LogMalformed(_logger, Id);
            await CloseAsync("malformed packet");
            return;
        }
        if (packet.Namespace != SocketIoPacket.DefaultNamespace)
        {
            Send(SocketIoPacket.ConnectError(packet.Namespace, "Invalid namespace"));
            return;
        }
        switch (packet.Type)
        {
            case SocketIoPacketType.Connect:
                await ConnectNamespaceAsync(packet.Data);
                break;
            case SocketIoPacketType.Disconnect:
                await CloseAsync("client disconnect");
                break;
            case SocketIoPacketType.Event when _namespaceConnected && packet.TryGetEvent(out var name, out var argument):
                await HandleEventAsync(name, argument, packet.AckId);
                break;
        }
    }

    private async Task ConnectNamespaceAsync(JsonElement? auth)
    {
        // The handshake may carry the token already: io(url, { auth: { token } }).
        if (auth is { ValueKind: JsonValueKind.Object } a && (a.TryGetProperty("token", out _) || a.TryGetProperty("user", out _)))
        {
            var check = await CheckAsync(a);
            if (!check.Succeeded)
            {
                Send(SocketIoPacket.ConnectError(SocketIoPacket.DefaultNamespace, check.Error!));
                return;
            }
            _namespaceConnected = true;
            Send(SocketIoPacket.Connected(SocketId));
            Authenticated(check);
            return;
        }
        _namespaceConnected = true;
        Send(SocketIoPacket.Connected(SocketId));
        _authDeadline = _time.CreateTimer(_ =>
        {
            if (_userId is null)
            {
                Refuse(null, "Not authenticated in time.");
            }
        }, null, _options.AuthenticationTimeout, Timeout.InfiniteTimeSpan);
    }

    private async Task HandleEventAsync(string name, JsonElement argument, long? ackId)
    {
        switch (name)
        {
            case "authenticate":
                var check = await CheckAsync(argument);
                if (!check.Succeeded)
                {
                    Refuse(ackId, check.Error!);
                    return;
                }
                if (_userId is not null && _userId != check.UserId)
                {
                    Refuse(ackId, "The connection belongs to another user.");
                    return;
                }
                Authenticated(check);
                var ok = new { ok = true, userId = check.UserId, expiresAt = check.ExpiresAt == DateTimeOffset.MaxValue ? (DateTimeOffset?)null : check.ExpiresAt };
                if (ackId is { } id)
                {
                    Send(SocketIoPacket.Ack(id, ok));
                }
                Send(SocketIoPacket.Event("authenticated", ok));
                break;
            case "subscribe:torrent" or "unsubscribe:torrent":
                if (_userId is null)
                {
                    Answer(ackId, "Authenticate first.");
                    return;
                }
                var hash = argument.ValueKind == JsonValueKind.Object && argument.TryGetProperty("infoHash", out var h) && h.ValueKind == JsonValueKind.String
                    ? h.GetString()
                    : argument.ValueKind == JsonValueKind.String ? argument.GetString() : null;
                if (hash is not { Length: 40 } || !hash.All(char.IsAsciiHexDigit))
                {
                    Answer(ackId, "An info-hash is 40 hexadecimal characters.");
                    return;
                }
                hash = hash.ToLowerInvariant();
                if (name == "subscribe:torrent")
                {
                    _subscriptions[hash] = 0;
                }
                else
                {
                    _subscriptions.TryRemove(hash, out _);
                }
                if (ackId is { } subscribed)
                {
                    Send(SocketIoPacket.Ack(subscribed, new { ok = true, infoHash = hash }));
                }
                break;
            default:
                Answer(ackId, $"Unknown event '{(name.Length > 64 ? name[..64] : name)}'.");
                break;
        }
    }

    private Task<TokenCheck> CheckAsync(JsonElement argument)
    {
        string? token = null, user = null;
        if (argument.ValueKind == JsonValueKind.Object)
        {
            token = argument.TryGetProperty("token", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            user = argument.TryGetProperty("user", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
        }
        else if (argument.ValueKind == JsonValueKind.String)
        {
            token = argument.GetString();
        }
        return _tokens.ValidateAsync(token, user, _closed.Token);
    }

    private void Authenticated(TokenCheck check)
    {
        _authDeadline?.Dispose();
        var first = _userId is null;
        _userId = check.UserId;
        _expiry?.Dispose();
        if (check.ExpiresAt != DateTimeOffset.MaxValue)
        {
            // A connection lives no longer than its token; the client reconnects (or authenticates again before) with a fresh one.
            var due = check.ExpiresAt - _time.GetUtcNow();
            _expiry = _time.CreateTimer(_ =>
            {
                LogExpired(_logger, Id);
                Send(SocketIoPacket.Event("error", new { message = "The access token has expired." }));
                _ = CloseAsync("token expired");
            }, null, due > TimeSpan.Zero ? due : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        }
        if (first)
        {
            _connections.Add(this);
        }
    }

    /// <summary>A refused token: the acknowledgement (when asked for) and an <c>error</c> event, then the server disconnects.</summary>
    private void Refuse(long? ackId, string message)
    {
        LogRefused(_logger, Id, message);
        if (ackId is { } id)
        {
            Send(SocketIoPacket.Ack(id, new { ok = false, message }));
        }
        Send(SocketIoPacket.Event("error", new { message }));
        _ = CloseAsync("refused");
    }

    private void Answer(long? ackId, string message)
    {
        if (ackId is { } id)
        {
            Send(SocketIoPacket.Ack(id, new { ok = false, message }));
        }
        else
        {
            Send(SocketIoPacket.Event("error", new { message }));
        }
    }

    // ---- life ----

    private async Task HeartbeatAsync()
    {
        try
        {
            while (!IsClosed)
            {
                await Task.Delay(_options.PingInterval, _time, _closed.Token);
                var sent = _time.GetTimestamp();
                Send(EngineIoPacketType.Ping.ToString());
                await Task.Delay(_options.PingTimeout, _time, _closed.Token);
                if (Interlocked.Read(ref _lastPongTicks) < sent)
                {
                    LogPingTimeout(_logger, Id);
                    await DisposeAsync();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Says goodbye in-band (Socket.IO disconnect, then the close of the transport once the queue is out), so a client
    /// sees "io server disconnect"; a client that never collects it is dropped after a ping timeout.
    /// </summary>
    public Task CloseAsync(string reason)
    {
        lock (_gate)
        {
            if (_closeRequested || IsClosed)
            {
                return Task.CompletedTask;
            }
            // Queued before the flag: a writer that sees the flag has the goodbye in its queue already.
            if (_namespaceConnected)
            {
                _control.Enqueue(SocketIoPacket.Disconnect);
            }
            _closeRequested = true;
        }
        LogClosing(_logger, Id, reason);
        _connections.Remove(this);
        _events.Signal();
        _ = Task.Delay(_options.PingTimeout, _time).ContinueWith(_ => DisposeAsync().AsTask(), TaskScheduler.Default);
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (IsClosed)
            {
                return;
            }
            _closeRequested = true;
            _closed.Cancel();
        }
        _connections.Remove(this);
        _server.Remove(this);
        _expiry?.Dispose();
        _authDeadline?.Dispose();
        if (_webSocket is { State: WebSocketState.Open or WebSocketState.CloseReceived } socket)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
        _readAbort.CancelAfter(TimeSpan.FromSeconds(2));
    }

    private static string NewId()
    {
        Span<byte> bytes = stackalloc byte[15];
        System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
        return Convert.ToBase64String(bytes).Replace('+', '-').Replace('/', '_');
    }

    [LoggerMessage(LogLevel.Warning, "Socket.IO session {Sid} fell {Capacity} packets behind: closed (it reconnects and starts from the present)")]
    private static partial void LogOverflow(ILogger logger, string sid, int capacity);

    [LoggerMessage(LogLevel.Information, "Socket.IO session {Sid} refused: {Reason}")]
    private static partial void LogRefused(ILogger logger, string sid, string reason);

    [LoggerMessage(LogLevel.Information, "Socket.IO session {Sid}: its access token expired")]
    private static partial void LogExpired(ILogger logger, string sid);

    [LoggerMessage(LogLevel.Information, "Socket.IO session {Sid} missed its pong: closed")]
    private static partial void LogPingTimeout(ILogger logger, string sid);

    [LoggerMessage(LogLevel.Debug, "Socket.IO session {Sid} closing: {Reason}")]
    private static partial void LogClosing(ILogger logger, string sid, string reason);

    [LoggerMessage(LogLevel.Error, "Socket.IO session {Sid}: handling a packet failed")]
    private static partial void LogPacketFailed(ILogger logger, Exception exception, string sid);

    [LoggerMessage(LogLevel.Information, "Socket.IO session {Sid} sent a malformed packet: closed")]
    private static partial void LogMalformed(ILogger logger, string sid);
}
