namespace TorrentEdge.Engine.PiecePicking;

/// <summary>
/// One link of the piece-picking chain: chooses which not-yet-started piece to start for a peer.
/// Decorators narrow or reorder the candidates and delegate to the next link (MonoTorrent style).
/// </summary>
public interface IPieceSelector
{
    /// <summary>
    /// Returns one piece from <paramref name="candidates"/> (pieces the peer has, that we want and nobody
    /// started), or -1. Must not modify <paramref name="candidates"/> or allocate.
    /// </summary>
    int SelectPiece(IPieceRequester peer, PieceSet candidates);
}

/// <summary>The lowest-numbered candidate.</summary>
public sealed class FirstAvailableSelector : IPieceSelector
{
    public int SelectPiece(IPieceRequester peer, PieceSet candidates) => candidates.NextSet(0);
}

/// <summary>Streaming: the first candidate at or after the picker's sequential position, wrapping around.</summary>
public sealed class SequentialSelector(PickingContext context) : IPieceSelector
{
    public int SelectPiece(IPieceRequester peer, PieceSet candidates) => candidates.NextSetWrapping(context.SequentialPosition);
}

/// <summary>The candidate fewest peers have, so rare pieces spread before their holders leave.</summary>
public sealed class RarestFirstSelector(PickingContext context) : IPieceSelector
{
    // Walk this far along the rarity order before falling back to scanning the candidates themselves.
    private const int OrderScanLimit = 512;

    public int SelectPiece(IPieceRequester peer, PieceSet candidates)
    {
        var availability = context.Availability;
        // With many candidates one turns up within ~pieces/candidates steps of the rarity order.
        var order = availability.PiecesByRarity;
        var limit = Math.Min(order.Length, OrderScanLimit);
        for (var i = 0; i < limit; i++)
            if (candidates[order[i]]) return order[i];
        // Few candidates: scan them for the least available.
        var best = -1;
        var bestCount = int.MaxValue;
        for (var p = candidates.NextSet(0); p >= 0; p = candidates.NextSet(p + 1))
        {
            var count = availability[p];
            if (count < bestCount) { best = p; bestCount = count; }
        }
        return best;
    }
}

/// <summary>Until a few pieces are verified, a random candidate: a new peer gets a whole piece to trade quickly.</summary>
public sealed class RandomFirstSelector(IPieceSelector inner, PickingContext context, int pieces) : IPieceSelector
{
    public int SelectPiece(IPieceRequester peer, PieceSet candidates)
    {
        if (context.Have.TrueCount >= pieces) return inner.SelectPiece(peer, candidates);
        return candidates.NextSetWrapping(context.Random.Next(candidates.Length));
    }
}

/// <summary>
/// BEP 6 suggestions: the first candidate the peer suggested (it has it cached, so it serves it cheaply), else the
/// inner link's choice. Inside the priority link, so a suggestion never beats a higher file priority.
/// </summary>
public sealed class SuggestedSelector(IPieceSelector inner) : IPieceSelector
{
    public int SelectPiece(IPieceRequester peer, PieceSet candidates)
    {
        foreach (var piece in peer.Suggested)
            if ((uint)piece < (uint)candidates.Length && candidates[piece]) return piece;
        return inner.SelectPiece(peer, candidates);
    }
}

/// <summary>Offers the inner link the highest-priority candidates first; skipped pieces never reach it.</summary>
public sealed class PrioritySelector : IPieceSelector
{
    private static readonly PiecePriority[] Levels = [PiecePriority.High, PiecePriority.Normal, PiecePriority.Low];
    private readonly IPieceSelector _inner;
    private readonly PickingContext _context;
    private readonly PieceSet _narrowed;

    public PrioritySelector(IPieceSelector inner, PickingContext context)
    {
        _inner = inner;
        _context = context;
        _narrowed = new PieceSet(context.PieceCount);
    }

    public int SelectPiece(IPieceRequester peer, PieceSet candidates)
    {
        // Candidates exclude skipped pieces already; with one priority in use there is nothing to narrow.
        if (!_context.HasMixedPriorities) return _inner.SelectPiece(peer, candidates);
        foreach (var level in Levels)
        {
            _narrowed.SetToAnd(candidates, _context.PiecesWithPriority(level));
            if (_narrowed.IsEmpty) continue;
            var piece = _inner.SelectPiece(peer, _narrowed);
            if (piece >= 0) return piece;
        }
        return -1;
    }
}
