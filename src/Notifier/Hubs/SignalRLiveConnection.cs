using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using TorrentEdge.Notifier.Live;

namespace TorrentEdge.Notifier.Hubs;

/// <summary>
/// A hub connection as a live client: its own bounded buffer and one writer task, so a client that stops reading
/// fills only its buffer (SignalR's group sends would wait for its socket and hold up everyone behind it).
/// </summary>
public sealed partial class SignalRLiveConnection : ILiveConnection
{
    private readonly HubCallerContext _context;
    private readonly IHubContext<TorrentHub> _hub;
    private readonly ILogger _logger;
    private readonly OutboundBuffer _buffer;
    private readonly ConcurrentDictionary<string, byte> _subscriptions = new(StringComparer.OrdinalIgnoreCase);
    private readonly CancellationTokenSource _stopped = new();
    private readonly Task _writer;

    public SignalRLiveConnection(HubCallerContext context, string userId, IHubContext<TorrentHub> hub, int bufferCapacity, ILogger logger)
    {
        _context = context;
        _hub = hub;
        _logger = logger;
        UserId = userId;
        _buffer = new OutboundBuffer(bufferCapacity);
        _writer = Task.Run(WriteAsync);
    }

    public string Id => _context.ConnectionId;

    public string UserId { get; }

    public bool IsSubscribed(string infoHash) => _subscriptions.ContainsKey(infoHash);

    public void Subscribe(string infoHash) => _subscriptions[infoHash] = 0;

    public void Unsubscribe(string infoHash) => _subscriptions.TryRemove(infoHash, out _);

    public void Enqueue(LiveMessage message)
    {
        if (!_buffer.TryEnqueue(message))
        {
            LogOverflow(_logger, Id, _buffer.Capacity);
            _context.Abort();
        }
    }

    public async Task StopAsync()
    {
        await _stopped.CancelAsync();
        try
        {
            await _writer;
        }
        catch (OperationCanceledException)
        {
        }
        _stopped.Dispose();
    }

    private async Task WriteAsync()
    {
        var batch = new List<LiveMessage>(64);
        var client = _hub.Clients.Client(Id);
        var token = _stopped.Token;
        while (!token.IsCancellationRequested)
        {
            await _buffer.WaitAsync(token);
            while (_buffer.Drain(batch, 64) > 0)
            {
                try
                {
                    foreach (var message in batch)
                    {
                        // The connection is local to this replica: the lifetime manager writes it here, not through a backplane.
                        await client.SendAsync(message.Name, message.Payload, token);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A connection that cannot be written to is gone or going; SignalR reports its end to the hub.
                    LogSendFailed(_logger, ex, Id);
                    _context.Abort();
                    return;
                }
                batch.Clear();
            }
        }
    }

    [LoggerMessage(LogLevel.Debug, "Writing to hub connection {ConnectionId} failed: closed")]
    private static partial void LogSendFailed(ILogger logger, Exception exception, string connectionId);

    [LoggerMessage(LogLevel.Warning, "Hub connection {ConnectionId} fell {Capacity} events behind: closed (it reconnects and starts from the present)")]
    private static partial void LogOverflow(ILogger logger, string connectionId, int capacity);
}
