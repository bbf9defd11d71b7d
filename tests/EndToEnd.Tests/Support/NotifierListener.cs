using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace TorrentEdge.EndToEnd.Tests.Support;

/// <summary>A user watching live: Notifier's SignalR hub reached through the Gateway over WebSockets, with the access token.</summary>
public sealed class NotifierListener : IAsyncDisposable
{
    private readonly HubConnection _connection;
    private readonly ConcurrentQueue<(string Name, string? InfoHash)> _received = new();

    private NotifierListener(HubConnection connection) => _connection = connection;

    public static async Task<NotifierListener> ConnectAsync(Uri gateway, string accessToken, IEnumerable<string> events, CancellationToken cancellationToken)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(gateway, "/hubs/torrents"), o =>
            {
                o.AccessTokenProvider = () => Task.FromResult<string?>(accessToken);
                o.Transports = HttpTransportType.WebSockets;
                o.SkipNegotiation = true;
            })
            .Build();
        var listener = new NotifierListener(connection);
        foreach (var name in events)
        {
            connection.On<JsonElement>(name, payload => listener._received.Enqueue(
                (name, payload.TryGetProperty("infoHash", out var hash) ? hash.GetString() : null)));
        }
        await connection.StartAsync(cancellationToken);
        return listener;
    }

    public bool Received(string name, string infoHash) => _received.Any(r => r.Name == name && r.InfoHash == infoHash);

    public string Summary() => string.Join(", ", _received.GroupBy(r => r.Name).Select(g => $"{g.Key} x{g.Count()}"));

    public async ValueTask DisposeAsync() => await _connection.DisposeAsync();
}
