using System.Net;
using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Torrents;

/// <summary>What the roster needs to know of a connection.</summary>
internal interface IRosterPeer
{
    IPEndPoint? EndPoint { get; }
    PeerId PeerId { get; }
    /// <summary>The other side dialled us.</summary>
    bool IsIncoming { get; }
}

/// <summary>
/// A torrent's peers: the addresses it may dial (<see cref="PeerCandidates"/>), the connections opening and open, the
/// strikes and bans held against addresses and peer ids, and the back-off of failed dials. Owned by the torrent's
/// loop (no locks); time comes from the engine's <see cref="TimeProvider"/>, so tests step bans and back-off.
/// </summary>
/// <remarks>
/// <see cref="AddCandidate"/> is the one intake of addresses, whatever found them (given peers, magnets, trackers, and
/// the DHT and PEX sources to come): each is filtered (ourselves, port 0) and capped there.
/// </remarks>
internal sealed class PeerRoster<TPeer> where TPeer : class, IRosterPeer
{
    public const int StrikesToBan = 3;
    public static readonly TimeSpan BanTime = TimeSpan.FromMinutes(30);
    public static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(5);

    private readonly EngineOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private readonly Dictionary<IPEndPoint, int> _strikes = [];
    private readonly Dictionary<IPEndPoint, long> _bannedUntil = [];
    private readonly Dictionary<PeerId, long> _bannedIds = [];
    // Ids of the registered peers, so a second connection from the same peer is found without a scan.
    private readonly HashSet<PeerId> _peerIds = [];

    public PeerRoster(EngineOptions options, TimeProvider time, Random random)
    {
        _options = options;
        _time = time;
        _random = random;
        Candidates = new PeerCandidates(options.MaxPeerCandidates);
    }

    public PeerCandidates Candidates { get; }

    /// <summary>Registered connections (handshake done, accepted by the loop).</summary>
    public List<TPeer> Connected { get; } = [];

    /// <summary>Connections dialling or handshaking.</summary>
    public HashSet<TPeer> Pending { get; } = [];

    /// <summary>Open and opening connections, against <see cref="EngineOptions.MaxConnectionsPerTorrent"/>.</summary>
    public bool IsFull => Connected.Count + Pending.Count >= _options.MaxConnectionsPerTorrent;

    /// <summary>Addresses (or address and port) under a ban now or banned before and not yet forgotten.</summary>
    public int BannedCount => _bannedUntil.Count;

    private long Now => _time.NowMilliseconds();

    // ---- intake ----

    /// <summary>Remembers an address to dial; false when it is ourselves, unusable, already known or the set is full of connected peers.</summary>
    public bool AddCandidate(IPEndPoint endPoint, IPEndPoint? self, PeerSource source = PeerSource.Unknown)
    {
        if (endPoint.Port == 0) return false;
        if (self is not null && self.Port == endPoint.Port && (IPAddress.IsLoopback(endPoint.Address) || endPoint.Address.Equals(self.Address)))
            return false; // ourselves, as a tracker reports us back
        return Candidates.TryAdd(endPoint, source);
    }

    /// <summary>Candidates worth dialling now: not connected, their back-off over, not banned, their address not full.</summary>
    public IEnumerable<PeerCandidate> Dialable()
    {
        var now = Now;
        foreach (var c in Candidates.All)
        {
            if (c.Connected || c.NextAttemptTicks > now || IsBanned(c.EndPoint) || AddressFull(c.EndPoint)) continue;
            yield return c;
        }
    }

    /// <summary>A dial to <paramref name="candidate"/> started as <paramref name="session"/>.</summary>
    public void Dialling(PeerCandidate candidate, TPeer session)
    {
        candidate.Connected = true;
        Pending.Add(session);
    }

    /// <summary>Whether a connection from or to <paramref name="endPoint"/> (incoming, or handed in) may open at all.</summary>
    public bool MayOpen(IPEndPoint? endPoint, PeerId? peerId = null) =>
        !IsFull && !IsBanned(endPoint) && (peerId is not { } id || !IsBanned(id)) && !AddressFull(endPoint);

    // ---- connections ----

    /// <summary>
    /// The handshake finished: the connection joins <see cref="Connected"/>, unless its address or id is banned or the
    /// same peer is already connected (then false: close it).
    /// </summary>
    public bool TryRegister(TPeer peer) => TryRegister(peer, ourId: null, out _);

    /// <summary>
    /// As <see cref="TryRegister(TPeer)"/>, with a rule for two peers that dialled each other at once (both learnt of
    /// each other from LSD, PEX or a tracker in the same moment). Deciding by arrival order lets each side keep a
    /// different connection and close the one the other kept, so neither is left with a working one. Both sides instead
    /// keep the connection dialled by the greater peer id: when that is the new one, it replaces the registered one,
    /// which comes back in <paramref name="replaced"/> for the caller to retire and close.
    /// </summary>
    public bool TryRegister(TPeer peer, PeerId? ourId, out TPeer? replaced)
    {
        replaced = null;
        Pending.Remove(peer);
        if (IsBanned(peer.PeerId) || IsBanned(peer.EndPoint)) return false;
        if (!_peerIds.Add(peer.PeerId))
        {
            if (ourId is not { } us || !NewOneWins(peer, us)) return false;
            replaced = Connected.Find(p => p.PeerId.Equals(peer.PeerId));
            if (replaced is null) return false;
            Connected.Remove(replaced);
        }
        Connected.Add(peer);
        if (peer.EndPoint is { } ep && Candidates.TryGet(ep, out var c)) c.Failures = 0;
        return true;
    }

    // A crossed pair (one dialled by each side) is decided by id. A peer that dials us again from the same address
    // does so because its end of the first connection is gone (our end may not have noticed yet): the new one wins.
    // From another address the first is kept, so nobody who learnt a peer's id can push it off.
    private bool NewOneWins(TPeer peer, PeerId us)
    {
        var existing = Connected.Find(p => p.PeerId.Equals(peer.PeerId));
        if (existing is null) return false;
        if (existing.IsIncoming && peer.IsIncoming)
            return existing.EndPoint is { } a && peer.EndPoint is { } b && a.Address.Equals(b.Address);
        if (existing.IsIncoming == peer.IsIncoming) return false;
        var weDialledTheNewOne = !peer.IsIncoming;
        var oursIsGreater = us.Span.SequenceCompareTo(peer.PeerId.Span) > 0;
        return weDialledTheNewOne == oursIsGreater;
    }

    /// <summary>
    /// A connection ended. Its address may be dialled again after a back-off that doubles with each failed dial (one
    /// that never got registered), with ±25 % jitter so a dead peer is not hammered and many are not retried in step.
    /// </summary>
    public void Closed(TPeer peer, bool registered)
    {
        Pending.Remove(peer);
        if (peer.EndPoint is { } ep && Candidates.TryGet(ep, out var c))
        {
            c.Connected = false;
            if (!registered) c.Failures++;
            c.NextAttemptTicks = Now + (long)Backoff(c.Failures).TotalMilliseconds;
        }
        if (!registered) return;
        // A connection replaced by a crossed one is no longer listed, and its id now belongs to the winner.
        if (Connected.Remove(peer)) _peerIds.Remove(peer.PeerId);
    }

    /// <summary>The wait before dialling again after <paramref name="failures"/> failed dials in a row, jittered.</summary>
    public TimeSpan Backoff(int failures)
    {
        var ms = Math.Min(MaxBackoff.TotalMilliseconds, FirstBackoff.TotalMilliseconds * (1L << Math.Min(failures, 8)));
        return TimeSpan.FromMilliseconds(ms * (0.75 + _random.NextDouble() * 0.5));
    }

    /// <summary>
    /// Whether the torrent already has <see cref="EngineOptions.MaxConnectionsPerAddress"/> connections (open or
    /// opening) with the address, so one host cannot fill the torrent's slots from many ports.
    /// </summary>
    public bool AddressFull(IPEndPoint? endPoint)
    {
        if (endPoint is null) return false;
        var address = Normalise(endPoint.Address);
        if (IPAddress.IsLoopback(address) && !_options.LimitLoopbackConnections) return false;
        var n = 0;
        foreach (var p in Connected)
            if (p.EndPoint is { } ep && Normalise(ep.Address).Equals(address)) n++;
        foreach (var p in Pending)
            if (p.EndPoint is { } ep && Normalise(ep.Address).Equals(address)) n++;
        return n >= _options.MaxConnectionsPerAddress;
    }

    // ---- strikes and bans ----

    public bool IsBanned(IPEndPoint? endPoint) =>
        endPoint is not null && _bannedUntil.TryGetValue(BanKey(endPoint), out var until) && until > Now;

    public bool IsBanned(PeerId peerId) => _bannedIds.TryGetValue(peerId, out var until) && until > Now;

    /// <summary>
    /// Holds an offence against the address (and, once banned, the peer id); <see cref="StrikesToBan"/> strikes ban both
    /// for <see cref="BanTime"/>. True when this strike banned it; <paramref name="strikes"/> is the count so far.
    /// </summary>
    public bool Strike(IPEndPoint endPoint, PeerId peerId, out int strikes)
    {
        var key = BanKey(endPoint);
        _strikes.TryGetValue(key, out strikes);
        _strikes[key] = ++strikes;
        if (strikes < StrikesToBan || IsBanned(endPoint)) return false;
        var until = Now + (long)BanTime.TotalMilliseconds;
        _bannedUntil[key] = until;
        _bannedIds[peerId] = until;
        return true;
    }

    /// <summary>What strikes and bans are counted against: the address alone (port 0), or address and port for NAT.</summary>
    private IPEndPoint BanKey(IPEndPoint endPoint) =>
        _options.BanByAddress ? new IPEndPoint(Normalise(endPoint.Address), 0) : endPoint;

    private static IPAddress Normalise(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
