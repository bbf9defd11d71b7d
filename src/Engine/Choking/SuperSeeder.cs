using TorrentEdge.Engine.Common;

namespace TorrentEdge.Engine.Choking;

/// <summary>
/// Super-seeding (BEP 16): instead of a full bitfield, each peer is told about one piece at a time,
/// the rarest one not already handed to somebody else, so an initial seed uploads each piece about
/// once. A piece handed to a peer is reserved until another peer is seen having it ("spread").
/// One owner calls it (the torrent's loop).
/// </summary>
/// <remarks>
/// Non-strict (default): a peer gets its next piece as soon as it reports having the one it was
/// offered. Strict: only once that piece has been seen at another peer, which starves peers that
/// do not pass pieces on.
/// </remarks>
public sealed class SuperSeeder<TPeer> where TPeer : notnull
{
    private readonly int[] _availability;
    private readonly Dictionary<int, TPeer> _reservedBy = [];
    private readonly Dictionary<TPeer, PeerState> _peers = [];
    private readonly Random _random;

    public SuperSeeder(int pieceCount, bool strict = false, Random? random = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        PieceCount = pieceCount;
        Strict = strict;
        _availability = new int[pieceCount];
        _random = random ?? Random.Shared;
    }

    public int PieceCount { get; }

    public bool Strict { get; }

    /// <summary>Number of connected peers known to have <paramref name="piece"/>.</summary>
    public int GetAvailability(int piece) => _availability[piece];

    /// <summary>The piece currently advertised to <paramref name="peer"/>, or -1.</summary>
    public int GetOffered(TPeer peer) => _peers.TryGetValue(peer, out var state) ? state.Offered : -1;

    /// <summary>
    /// Registers a peer with the pieces it already has and returns the piece to advertise to it
    /// (send a single HAVE, not our bitfield), or -1 if there is none to give now.
    /// </summary>
    public int PeerConnected(TPeer peer, BitField? has = null)
    {
        if (has is not null && has.Length != PieceCount) throw new ArgumentException("Bitfield length differs.", nameof(has));
        var state = new PeerState(has?.Clone() ?? new BitField(PieceCount));
        if (!_peers.TryAdd(peer, state)) throw new InvalidOperationException("Peer already registered.");
        for (var p = state.Has.NextSet(0); p >= 0; p = state.Has.NextSet(p + 1)) _availability[p]++;
        return Offer(peer, state);
    }

    /// <summary>Forgets a peer; pieces reserved for it that did not spread become available again.</summary>
    public void PeerDisconnected(TPeer peer)
    {
        if (!_peers.Remove(peer, out var state)) return;
        for (var p = state.Has.NextSet(0); p >= 0; p = state.Has.NextSet(p + 1)) _availability[p]--;
        foreach (var piece in state.Reserved)
            if (_reservedBy.TryGetValue(piece, out var owner) && EqualityComparer<TPeer>.Default.Equals(owner, peer))
                _reservedBy.Remove(piece);
    }

    /// <summary>
    /// Handles a HAVE from <paramref name="peer"/>. New advertisements that follow from it (to this
    /// peer or, in strict mode, to the peer whose piece just spread) are added to <paramref name="advertise"/>.
    /// </summary>
    public void OnHave(TPeer peer, int piece, ICollection<(TPeer Peer, int Piece)> advertise)
    {
        ArgumentNullException.ThrowIfNull(advertise);
        if ((uint)piece >= (uint)PieceCount) throw new ArgumentOutOfRangeException(nameof(piece));
        if (!_peers.TryGetValue(peer, out var state) || state.Has[piece]) return;
        state.Has[piece] = true;
        _availability[piece]++;

        if (_reservedBy.TryGetValue(piece, out var owner) && !EqualityComparer<TPeer>.Default.Equals(owner, peer))
        {
            // Seen at a second peer: the piece has spread, so the reservation ends.
            _reservedBy.Remove(piece);
            if (_peers.TryGetValue(owner, out var ownerState))
            {
                ownerState.Reserved.Remove(piece);
                if (Strict && ownerState.Offered == piece && ownerState.Has[piece])
                {
                    ownerState.Offered = -1;
                    var next = Offer(owner, ownerState);
                    if (next >= 0) advertise.Add((owner, next));
                }
            }
        }

        if (state.Offered == piece && !Strict)
        {
            state.Offered = -1;
            var next = Offer(peer, state);
            if (next >= 0) advertise.Add((peer, next));
        }
        else if (state.Offered < 0)
        {
            // It had nothing to fetch from us (none was free earlier): try again now.
            var next = Offer(peer, state);
            if (next >= 0) advertise.Add((peer, next));
        }
    }

    private int Offer(TPeer peer, PeerState state)
    {
        if (state.Offered >= 0) return -1;
        var best = -1;
        var bestAvailability = int.MaxValue;
        var ties = 0;
        for (var p = state.Has.NextClear(0); p >= 0; p = state.Has.NextClear(p + 1))
        {
            if (_reservedBy.ContainsKey(p)) continue;
            var a = _availability[p];
            if (a < bestAvailability)
            {
                best = p;
                bestAvailability = a;
                ties = 1;
            }
            else if (a == bestAvailability && _random.Next(++ties) == 0)
            {
                best = p; // reservoir sampling: a uniform choice among equally rare pieces
            }
        }
        if (best < 0) return -1;
        state.Offered = best;
        state.Reserved.Add(best);
        _reservedBy[best] = peer;
        return best;
    }

    private sealed class PeerState(BitField has)
    {
        public BitField Has { get; } = has;

        public int Offered { get; set; } = -1;

        public HashSet<int> Reserved { get; } = [];
    }
}
