namespace TorrentEdge.Engine.Choking;

/// <summary>
/// Decides which peers we upload to: the best <see cref="ChokerOptions.RegularSlots"/> interested
/// peers by what they give us (by what we manage to send them when we are a seed), plus one
/// optimistic unchoke that rotates so new peers get a chance to prove themselves.
/// Deterministic given its <see cref="Random"/> and <see cref="TimeProvider"/>; one owner calls it.
/// </summary>
/// <remarks>
/// Snubbed peers are left out of the regular slots but may be picked optimistically. Seeds and
/// uninterested peers are never unchoked (they would not request anything).
/// </remarks>
public sealed class Choker
{
    private readonly ChokerOptions _options;
    private readonly TimeProvider _time;
    private readonly Random _random;
    private DateTimeOffset? _lastRechoke;
    private DateTimeOffset _lastOptimistic;

    public Choker(ChokerOptions? options = null, TimeProvider? timeProvider = null, Random? random = null)
    {
        _options = options ?? ChokerOptions.Default;
        ArgumentOutOfRangeException.ThrowIfNegative(_options.RegularSlots, nameof(options));
        ArgumentOutOfRangeException.ThrowIfLessThan(_options.NewPeerWeight, 1, nameof(options));
        _time = timeProvider ?? TimeProvider.System;
        _random = random ?? Random.Shared;
    }

    /// <summary>The peer holding the optimistic slot, if any.</summary>
    public IChokePeer? OptimisticPeer { get; private set; }

    /// <summary>Whether a rechoke interval has passed since the last <see cref="Rechoke{TPeer}"/>.</summary>
    public bool IsRechokeDue =>
        _lastRechoke is not { } last || _time.GetUtcNow() - last >= _options.RechokeInterval;

    /// <summary>
    /// Computes who should be unchoked now; every other peer should be choked. Call it every
    /// <see cref="ChokerOptions.RechokeInterval"/> and when a peer leaves or changes interest.
    /// </summary>
    public ChokeDecision<TPeer> Rechoke<TPeer>(IReadOnlyList<TPeer> peers, bool amSeed) where TPeer : class, IChokePeer
    {
        ArgumentNullException.ThrowIfNull(peers);
        var now = _time.GetUtcNow();
        _lastRechoke = now;

        var regularPool = new List<(TPeer Peer, int Index)>();
        for (var i = 0; i < peers.Count; i++)
        {
            var peer = peers[i];
            if (!peer.IsInterested || peer.IsSeed) continue;
            if (!amSeed && peer.IsSnubbed) continue;
            regularPool.Add((peer, i));
        }
        regularPool.Sort((a, b) =>
        {
            var byRate = amSeed ? b.Peer.UploadRate.CompareTo(a.Peer.UploadRate) : b.Peer.DownloadRate.CompareTo(a.Peer.DownloadRate);
            if (byRate != 0) return byRate;
            // Keep current choices on ties, so equal peers are not flipped back and forth.
            var byState = a.Peer.AmChoking.CompareTo(b.Peer.AmChoking);
            return byState != 0 ? byState : a.Index.CompareTo(b.Index);
        });

        var unchoke = new List<TPeer>(_options.RegularSlots + 1);
        for (var i = 0; i < regularPool.Count && unchoke.Count < _options.RegularSlots; i++)
            unchoke.Add(regularPool[i].Peer);

        var current = OptimisticPeer as TPeer;
        var keep = current is not null
            && now - _lastOptimistic < _options.OptimisticInterval
            && Contains(peers, current)
            && current.IsInterested && !current.IsSeed
            && !unchoke.Contains(current);
        if (!keep)
        {
            OptimisticPeer = PickOptimistic(peers, unchoke, now);
            _lastOptimistic = now;
        }
        var optimistic = OptimisticPeer as TPeer;
        if (optimistic is not null) unchoke.Add(optimistic);
        return new ChokeDecision<TPeer>(unchoke, optimistic);
    }

    private IChokePeer? PickOptimistic<TPeer>(IReadOnlyList<TPeer> peers, List<TPeer> regular, DateTimeOffset now)
        where TPeer : class, IChokePeer
    {
        // Weighted draw among interested peers without a regular slot, choked ones first
        // (an unchoked one would gain nothing from the slot).
        for (var pass = 0; pass < 2; pass++)
        {
            var total = 0;
            for (var i = 0; i < peers.Count; i++)
                if (IsOptimisticCandidate(peers[i], regular, pass)) total += Weight(peers[i], now);
            if (total == 0) continue;
            var pick = _random.Next(total);
            for (var i = 0; i < peers.Count; i++)
            {
                if (!IsOptimisticCandidate(peers[i], regular, pass)) continue;
                pick -= Weight(peers[i], now);
                if (pick < 0) return peers[i];
            }
        }
        return null;
    }

    private static bool IsOptimisticCandidate<TPeer>(TPeer peer, List<TPeer> regular, int pass) where TPeer : class, IChokePeer =>
        peer.IsInterested && !peer.IsSeed && !regular.Contains(peer) && (pass == 1 || peer.AmChoking);

    private int Weight(IChokePeer peer, DateTimeOffset now) =>
        now - peer.ConnectedAt < _options.NewPeerWindow ? _options.NewPeerWeight : 1;

    private static bool Contains<TPeer>(IReadOnlyList<TPeer> peers, TPeer peer) where TPeer : class
    {
        for (var i = 0; i < peers.Count; i++)
            if (ReferenceEquals(peers[i], peer)) return true;
        return false;
    }
}

/// <summary>The outcome of a rechoke: the peers to unchoke (regular slots first, then the optimistic one).</summary>
public sealed record ChokeDecision<TPeer>(IReadOnlyList<TPeer> Unchoke, TPeer? Optimistic) where TPeer : class
{
    public bool ShouldUnchoke(TPeer peer)
    {
        for (var i = 0; i < Unchoke.Count; i++)
            if (ReferenceEquals(Unchoke[i], peer)) return true;
        return false;
    }
}
