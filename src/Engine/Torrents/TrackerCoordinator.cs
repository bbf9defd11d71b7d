using System.Net;
using System.Net.Sockets;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Trackers;

namespace TorrentEdge.Engine.Torrents;

/// <summary>What the torrents of one engine share for tracker traffic: one HttpClient and the client factory.</summary>
internal sealed class TrackerCoordinator : IAsyncDisposable
{
    private readonly HttpClient _http;

    public TrackerCoordinator(DestinationPolicy destinations)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(15),
            MaxAutomaticRedirections = 5,
        };
        if (!destinations.IsUnrestricted)
        {
            // Every connection, the first and each redirect's, is checked where it is made: after name resolution, on the
            // address actually dialled. A proxy would hide the real destination from this check, so none is used.
            handler.UseProxy = false;
            handler.ConnectCallback = (context, cancellationToken) => ConnectAsync(destinations, context.DnsEndPoint, cancellationToken);
        }
        _http = new HttpClient(handler);
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("TorrentEdge/0.1");
        Factory = new TrackerClientFactory(_http, new UdpTrackerOptions { Destinations = destinations });
    }

    private static async ValueTask<Stream> ConnectAsync(DestinationPolicy destinations, DnsEndPoint endPoint, CancellationToken cancellationToken)
    {
        var addresses = await destinations.FilterAsync(endPoint.Host, cancellationToken).ConfigureAwait(false);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, endPoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public ITrackerClientFactory Factory { get; }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
