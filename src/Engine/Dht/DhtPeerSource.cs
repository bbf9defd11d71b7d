using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Dht;

/// <summary>
/// The DHT as a source of peers for the engine's torrents: every running public torrent is looked up (get_peers) when
/// it starts and then every <see cref="DhtOptions.AnnounceInterval"/> (sooner, <see cref="DhtOptions.RetryInterval"/>,
/// while it has no peers), the peers found go to its candidates, and our port is announced. Private torrents (BEP 27)
/// never: neither looked up nor announced, including a magnet's once its metadata says private.
/// </summary>
internal sealed class DhtPeerSource : IAsyncDisposable
{
    private readonly DhtEngine _dht;
    private readonly Func<IEnumerable<TorrentManager>> _torrents;
    private readonly Func<int> _announcePort;
    private readonly DhtOptions _options;
    private readonly TimeProvider _time;
    private readonly Dictionary<InfoHash, DateTimeOffset> _due = [];
    private readonly HashSet<InfoHash> _running = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    public DhtPeerSource(DhtEngine dht, Func<IEnumerable<TorrentManager>> torrents, Func<int> announcePort, DhtOptions options)
    {
        _dht = dht;
        _torrents = torrents;
        _announcePort = announcePort;
        _options = options;
        _time = options.TimeProvider;
        _loop = Task.Run(() => LoopAsync(_stopping.Token));
    }

    /// <summary>Whether the DHT may be used for this torrent now.</summary>
    internal static bool Wants(TorrentManager torrent) =>
        PeerSourcePolicy.Allows(torrent.Metainfo, PeerSources.Dht) && torrent.State is TorrentState.Downloading or TorrentState.Seeding or TorrentState.FetchingMetadata;

    private async Task LoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                var now = _time.GetUtcNow();
                var present = new HashSet<InfoHash>();
                // With no node to ask (before the bootstrap's first answer) a lookup would find nothing and then wait a
                // whole RetryInterval: the torrents stay due and go as soon as the table has a node.
                var canAsk = _dht.NodeCount > 0;
                foreach (var torrent in _torrents())
                {
                    present.Add(torrent.InfoHash);
                    if (!canAsk || !Wants(torrent)) continue;
                    lock (_running)
                    {
                        if (_running.Count >= _options.MaxConcurrentLookups || _running.Contains(torrent.InfoHash)) continue;
                        if (_due.TryGetValue(torrent.InfoHash, out var due) && due > now) continue;
                        _running.Add(torrent.InfoHash);
                    }
                    _ = LookupAsync(torrent, cancellationToken);
                }
                lock (_running)
                    foreach (var gone in _due.Keys.Where(k => !present.Contains(k)).ToList()) _due.Remove(gone);
                await Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task LookupAsync(TorrentManager torrent, CancellationToken cancellationToken)
    {
        var found = 0;
        try
        {
            var port = _announcePort();
            // The metadata may arrive during the lookup and say private: from then on nothing found goes to the torrent.
            var peers = await _dht.GetPeersAsync(torrent.InfoHash, port > 0 ? port : null, cancellationToken, found =>
            {
                if (Wants(torrent)) torrent.AddPeers(found, PeerSource.Dht);
            }, () => Wants(torrent)).ConfigureAwait(false);
            found = peers.Count;
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            lock (_running)
            {
                _running.Remove(torrent.InfoHash);
                var starved = found == 0 || torrent.Status.Peers == 0;
                _due[torrent.InfoHash] = _time.GetUtcNow() + (starved ? _options.RetryInterval : _options.AnnounceInterval);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stopping.Dispose();
    }
}
