using TorrentEdge.Engine.Common;

namespace TorrentEdge.Engine.PiecePicking;

/// <summary>
/// How many connected peers have each piece, kept sorted by that count (rarest first) with O(1) work per
/// change: pieces sit in buckets of equal count and a change swaps one piece across a bucket boundary
/// (the layout libtorrent's piece picker uses). Seeds are counted once, not per piece, since they do not
/// change the order. One owner updates it (the torrent's loop).
/// </summary>
public sealed class Availability
{
    private readonly int[] _count;
    private readonly int[] _order;
    private readonly int[] _position;
    // _bucketStart[c]: index in _order of the first piece whose count is at least c. Buckets cover
    // _order[.._liveCount]; retired pieces (ones we have) sit after it, out of the rarity order.
    private int[] _bucketStart;
    private readonly bool[] _retired;
    private int _liveCount;

    public Availability(int pieceCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pieceCount);
        PieceCount = pieceCount;
        _count = new int[pieceCount];
        _order = new int[pieceCount];
        _position = new int[pieceCount];
        _retired = new bool[pieceCount];
        _liveCount = pieceCount;
        for (var i = 0; i < pieceCount; i++) _order[i] = _position[i] = i;
        _bucketStart = new int[34];
        _bucketStart.AsSpan(1).Fill(pieceCount);
    }

    public int PieceCount { get; }

    /// <summary>Peers counted as having every piece (seeds and have-all peers).</summary>
    public int Seeds { get; private set; }

    /// <summary>Number of peers that have <paramref name="piece"/>.</summary>
    public int this[int piece] => _count[piece] + Seeds;

    /// <summary>Pieces not retired, ordered from rarest to most common; valid until the next change.</summary>
    public ReadOnlySpan<int> PiecesByRarity => _order.AsSpan(0, _liveCount);

    /// <summary>The lowest availability of any piece not retired.</summary>
    public int Minimum => _liveCount == 0 ? 0 : _count[_order[0]] + Seeds;

    public bool IsRetired(int piece) => _retired[piece];

    /// <summary>
    /// Takes a piece we now have out of the rarity order (its count is still kept), so rarest-first scans never
    /// walk over finished pieces. Costs O(number of distinct counts). Permanent.
    /// </summary>
    public void Retire(int piece)
    {
        if (_retired[piece]) return;
        // Carry the piece up through the buckets above it to the last live slot, then shrink the live region.
        var k = _count[piece];
        while (true)
        {
            var last = _bucketStart[k + 1] - 1;
            Swap(_position[piece], last);
            if (_bucketStart[k + 1] == _liveCount) break;
            _bucketStart[k + 1] = last;
            k++;
        }
        _liveCount--;
        for (var j = 1; j < _bucketStart.Length; j++)
            if (_bucketStart[j] > _liveCount) _bucketStart[j] = _liveCount;
        _retired[piece] = true;
    }

    /// <summary>A peer with every piece (have-all or a full bitfield): O(1).</summary>
    public void AddSeed() => Seeds++;

    public void RemoveSeed()
    {
        if (Seeds == 0) throw new InvalidOperationException("No seed to remove.");
        Seeds--;
    }

    /// <summary>Counts a peer's bitfield (remove it later with <see cref="RemovePeer"/>, the same way).</summary>
    public void AddPeer(BitField pieces)
    {
        CheckLength(pieces);
        for (var i = pieces.NextSet(0); i >= 0; i = pieces.NextSet(i + 1)) Increment(i);
    }

    public void RemovePeer(BitField pieces)
    {
        CheckLength(pieces);
        for (var i = pieces.NextSet(0); i >= 0; i = pieces.NextSet(i + 1)) Decrement(i);
    }

    /// <summary>A peer announced a piece (have).</summary>
    public void Increment(int piece)
    {
        var c = _count[piece];
        if (_retired[piece])
        {
            _count[piece] = c + 1;
            return;
        }
        if (c + 2 >= _bucketStart.Length) Grow();
        // Move the piece to the end of its bucket, then shift the boundary so it starts the next one.
        var last = _bucketStart[c + 1] - 1;
        Swap(_position[piece], last);
        _bucketStart[c + 1] = last;
        _count[piece] = c + 1;
    }

    public void Decrement(int piece)
    {
        var c = _count[piece];
        if (c == 0) throw new InvalidOperationException($"Piece {piece} is not counted.");
        if (_retired[piece])
        {
            _count[piece] = c - 1;
            return;
        }
        var first = _bucketStart[c];
        Swap(_position[piece], first);
        _bucketStart[c] = first + 1;
        _count[piece] = c - 1;
    }

    private void Swap(int i, int j)
    {
        if (i == j) return;
        var a = _order[i];
        var b = _order[j];
        _order[i] = b;
        _order[j] = a;
        _position[b] = i;
        _position[a] = j;
    }

    private void Grow()
    {
        var old = _bucketStart.Length;
        Array.Resize(ref _bucketStart, old * 2);
        _bucketStart.AsSpan(old).Fill(_liveCount);
    }

    private void CheckLength(BitField pieces)
    {
        if (pieces.Length != PieceCount) throw new ArgumentException("Piece counts differ.", nameof(pieces));
    }
}
