using System.Net;
using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Dht;

/// <summary>
/// Peers announced to us (announce_peer), per info-hash, each for 30 minutes unless announced again. Bounded like
/// libtorrent's (<c>dht_max_torrents</c> 2000, <c>dht_max_peers</c> 500): past the caps an announce is dropped, so a
/// flood of announces costs at most the caps' memory.
/// </summary>
public sealed class PeerStore(TimeProvider? time = null, int maxTorrents = 2000, int maxPeersPerTorrent = 500)
{
    public static readonly TimeSpan PeerLifetime = TimeSpan.FromMinutes(30);
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Dictionary<InfoHash, Dictionary<IPEndPoint, long>> _peers = [];
    private readonly object _gate = new();

    public int TorrentCount { get { lock (_gate) return _peers.Count; } }

    public int PeerCount { get { lock (_gate) return _peers.Values.Sum(p => p.Count); } }

    /// <summary>Stores or refreshes a peer; false when a cap refused it.</summary>
    public bool Add(InfoHash infoHash, IPEndPoint peer)
    {
        var now = _time.NowMilliseconds();
        lock (_gate)
        {
            if (!_peers.TryGetValue(infoHash, out var set))
            {
                if (_peers.Count >= maxTorrents)
                {
                    Purge(now);
                    if (_peers.Count >= maxTorrents) return false;
                }
                _peers[infoHash] = set = [];
            }
            if (!set.ContainsKey(peer) && set.Count >= maxPeersPerTorrent)
            {
                PurgeSet(set, now);
                if (set.Count >= maxPeersPerTorrent) return false;
            }
            set[peer] = now + (long)PeerLifetime.TotalMilliseconds;
            return true;
        }
    }

    /// <summary>Up to <paramref name="max"/> live peers of <paramref name="infoHash"/>, in random order.</summary>
    public List<IPEndPoint> Get(InfoHash infoHash, int max = 100)
    {
        var now = _time.NowMilliseconds();
        lock (_gate)
        {
            if (!_peers.TryGetValue(infoHash, out var set)) return [];
            var live = set.Where(p => p.Value > now).Select(p => p.Key).ToArray();
            Random.Shared.Shuffle(live);
            return live.Take(max).ToList();
        }
    }

    /// <summary>Drops expired peers and emptied torrents.</summary>
    public void Purge() => Purge(_time.NowMilliseconds());

    private void Purge(long now)
    {
        lock (_gate)
        {
            foreach (var (hash, set) in _peers.ToList())
            {
                PurgeSet(set, now);
                if (set.Count == 0) _peers.Remove(hash);
            }
        }
    }

    private static void PurgeSet(Dictionary<IPEndPoint, long> set, long now)
    {
        foreach (var (ep, expires) in set.ToList())
            if (expires <= now) set.Remove(ep);
    }
}
