using System.Net;

namespace TorrentEdge.Engine.Torrents;

/// <summary>One address a torrent may dial, with its dial history.</summary>
internal sealed class PeerCandidate(IPEndPoint endPoint, long addedOrder, PeerSource source = PeerSource.Unknown)
{
    public IPEndPoint EndPoint { get; } = endPoint;
    /// <summary>Where the address came from first (shown in peer lists).</summary>
    public PeerSource Source { get; } = source;
    /// <summary>When it was added, relative to the others (eviction takes the oldest first).</summary>
    public long AddedOrder { get; } = addedOrder;
    public int Failures { get; set; }
    public long NextAttemptTicks { get; set; }
    public bool Connected { get; set; }
}

/// <summary>
/// The addresses a torrent knows of, capped: trackers and PEX can name far more peers than are ever dialled, and
/// each costs memory and a slot in every dial pass. When full, a new address replaces the least useful one: not
/// connected, most failed dials, then the oldest. Connected ones are never evicted. Owned by the torrent's loop.
/// </summary>
internal sealed class PeerCandidates(int capacity)
{
    private readonly Dictionary<IPEndPoint, PeerCandidate> _byEndPoint = [];
    private long _added;

    public int Capacity { get; } = Math.Max(1, capacity);

    public int Count => _byEndPoint.Count;

    public IEnumerable<PeerCandidate> All => _byEndPoint.Values;

    public bool Contains(IPEndPoint endPoint) => _byEndPoint.ContainsKey(endPoint);

    public bool TryGet(IPEndPoint endPoint, out PeerCandidate candidate) => _byEndPoint.TryGetValue(endPoint, out candidate!);

    /// <summary>Adds the address unless known; false when it was known or the set is full of connected peers.</summary>
    public bool TryAdd(IPEndPoint endPoint, PeerSource source = PeerSource.Unknown)
    {
        if (_byEndPoint.ContainsKey(endPoint)) return false;
        if (_byEndPoint.Count >= Capacity)
        {
            // A scan only when full, which is rare next to adds of known addresses (every tracker reply repeats them).
            PeerCandidate? worst = null;
            foreach (var c in _byEndPoint.Values)
            {
                if (c.Connected) continue;
                if (worst is null || c.Failures > worst.Failures || (c.Failures == worst.Failures && c.AddedOrder < worst.AddedOrder))
                    worst = c;
            }
            if (worst is null) return false;
            _byEndPoint.Remove(worst.EndPoint);
        }
        _byEndPoint[endPoint] = new PeerCandidate(endPoint, _added++, source);
        return true;
    }
}
