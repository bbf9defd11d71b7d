using System.Net;
using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// Peer exchange (BEP 11) for one torrent: what each connected peer was last told, when it was told, and when it last
/// told us something. Owned by the torrent's loop (no locks); time comes from the engine's <see cref="TimeProvider"/>,
/// so tests step the one-a-minute limit on a fake clock.
/// </summary>
/// <remarks>
/// Outgoing: a peer's first message goes out as soon as there is something to say (the full list, as libtorrent does)
/// and then at most one each <see cref="SendInterval"/>, holding the change since the last one: the connected peers
/// it was not told of (added) and those it was told of that are gone (dropped), at most
/// <see cref="PexMessage.MaxPeersPerList"/> of each; what does not fit waits for the next minute. An empty change sends
/// nothing. Incoming: a peer's message is taken when it is its first or comes at least <see cref="ReceiveInterval"/>
/// after the last one taken; the rest are ignored (BEP 11's sender sends one a minute; the margin forgives a sender's
/// tick that fires a little early, and libtorrent itself allows three a minute before it disconnects).
/// </remarks>
internal sealed class PeerExchange<TPeer> where TPeer : class
{
    public static readonly TimeSpan SendInterval = TimeSpan.FromMinutes(1);
    public static readonly TimeSpan ReceiveInterval = TimeSpan.FromSeconds(50);

    private readonly TimeProvider _time;
    private readonly Dictionary<TPeer, State> _peers = new(ReferenceEqualityComparer.Instance);

    public PeerExchange(TimeProvider time) => _time = time;

    /// <summary>Messages from peers ignored because they came too soon after the last one taken.</summary>
    public int IgnoredTooSoon { get; private set; }

    /// <summary>Peers with PEX state (for tests: a closed peer must be forgotten).</summary>
    public int Tracked => _peers.Count;

    /// <summary>
    /// The message due to <paramref name="peer"/> now, or null when its minute is not over or nothing changed.
    /// <paramref name="connected"/> is every peer we are connected to whose listen address we know;
    /// <paramref name="peerListenEndPoint"/> (the recipient's own address) is left out of what it is told.
    /// A returned message counts as sent: the caller sends it.
    /// </summary>
    public PexMessage? NextMessage(TPeer peer, IPEndPoint? peerListenEndPoint, IReadOnlyList<PexPeer> connected)
    {
        var state = Get(peer);
        var now = _time.NowMilliseconds();
        if (state.LastSentAt is { } last && now - last < (long)SendInterval.TotalMilliseconds) return null;

        var added = new List<PexPeer>();
        var current = new HashSet<IPEndPoint>();
        int added4 = 0, added6 = 0;
        foreach (var p in connected)
        {
            if (p.EndPoint.Equals(peerListenEndPoint)) continue;
            current.Add(p.EndPoint);
            if (state.Told.Contains(p.EndPoint)) continue;
            // Per address family, as the two families travel in lists of their own with a cap each.
            ref var n = ref IsV6(p.EndPoint) ? ref added6 : ref added4;
            if (n >= PexMessage.MaxPeersPerList) continue;
            n++;
            added.Add(p);
        }
        var dropped = new List<IPEndPoint>();
        int dropped4 = 0, dropped6 = 0;
        foreach (var ep in state.Told)
        {
            if (current.Contains(ep)) continue;
            ref var n = ref IsV6(ep) ? ref dropped6 : ref dropped4;
            if (n >= PexMessage.MaxPeersPerList) continue;
            n++;
            dropped.Add(ep);
        }
        if (added.Count == 0 && dropped.Count == 0) return null;

        foreach (var p in added) state.Told.Add(p.EndPoint);
        foreach (var ep in dropped) state.Told.Remove(ep);
        state.LastSentAt = now;
        return new PexMessage { Added = added, Dropped = dropped };
    }

    /// <summary>Whether to take a message that <paramref name="peer"/> sent now (false: too soon, ignore it).</summary>
    public bool MayReceive(TPeer peer)
    {
        var state = Get(peer);
        var now = _time.NowMilliseconds();
        if (state.LastReceivedAt is { } last && now - last < (long)ReceiveInterval.TotalMilliseconds)
        {
            IgnoredTooSoon++;
            return false;
        }
        state.LastReceivedAt = now;
        return true;
    }

    /// <summary>The connection closed: its state goes.</summary>
    public void Forget(TPeer peer) => _peers.Remove(peer);

    private State Get(TPeer peer)
    {
        if (!_peers.TryGetValue(peer, out var state)) _peers[peer] = state = new State();
        return state;
    }

    private static bool IsV6(IPEndPoint ep) =>
        ep.Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !ep.Address.IsIPv4MappedToIPv6;

    private sealed class State
    {
        public long? LastSentAt;
        public long? LastReceivedAt;
        /// <summary>The addresses the peer was told of and not told dropped since.</summary>
        public readonly HashSet<IPEndPoint> Told = [];
    }
}
