using TorrentEdge.Engine.Trackers;

namespace TorrentEdge.Engine.Torrents;

/// <summary>What the torrents of one engine share for tracker traffic: one HttpClient and the client factory.</summary>
internal sealed class TrackerCoordinator : IAsyncDisposable
{
    private readonly HttpClient _http;

    public TrackerCoordinator()
    {
        _http = new HttpClient(new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(15),
        });
        _http.DefaultRequestHeaders.UserAgent.ParseAdd("TorrentEdge/0.1");
        Factory = new TrackerClientFactory(_http);
    }

    public ITrackerClientFactory Factory { get; }

    public ValueTask DisposeAsync()
    {
        _http.Dispose();
        return ValueTask.CompletedTask;
    }
}
