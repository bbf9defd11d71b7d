using TorrentEdge.Engine.Common;

namespace TorrentEdge.Engine.PiecePicking;

/// <summary>State the picking strategies read: availability, our pieces, priorities, randomness, streaming position.</summary>
public sealed class PickingContext
{
    private readonly PiecePriority[] _priorities;
    private readonly PieceSet _high;
    private readonly PieceSet _normal;
    private readonly PieceSet _low;

    internal PickingContext(int pieceCount, BitField have, Random random)
    {
        PieceCount = pieceCount;
        Have = have;
        Random = random;
        Availability = new Availability(pieceCount);
        _priorities = new PiecePriority[pieceCount];
        _priorities.AsSpan().Fill(PiecePriority.Normal);
        _high = new PieceSet(pieceCount);
        _normal = new PieceSet(pieceCount);
        _normal.SetAll();
        _low = new PieceSet(pieceCount);
    }

    public int PieceCount { get; }

    /// <summary>Verified pieces.</summary>
    public BitField Have { get; }

    public Availability Availability { get; }

    public Random Random { get; }

    /// <summary>Where sequential (streaming) picking starts.</summary>
    public int SequentialPosition { get; internal set; }

    /// <summary>True when more than one non-skip priority is in use.</summary>
    public bool HasMixedPriorities { get; private set; }

    public PiecePriority GetPriority(int piece) => _priorities[piece];

    public PieceSet PiecesWithPriority(PiecePriority priority) => priority switch
    {
        PiecePriority.High => _high,
        PiecePriority.Low => _low,
        PiecePriority.Normal => _normal,
        _ => throw new ArgumentOutOfRangeException(nameof(priority), "Skipped pieces have no set."),
    };

    internal void SetPriorities(ReadOnlySpan<PiecePriority> priorities)
    {
        if (priorities.Length != PieceCount) throw new ArgumentException("One priority per piece.", nameof(priorities));
        _high.Clear();
        _normal.Clear();
        _low.Clear();
        for (var i = 0; i < priorities.Length; i++)
        {
            var p = priorities[i];
            _priorities[i] = p;
            // Values between the named levels round down to the nearest one.
            if (p >= PiecePriority.High) _high[i] = true;
            else if (p >= PiecePriority.Normal) _normal[i] = true;
            else if (p >= PiecePriority.Low) _low[i] = true;
        }
        var used = (_high.IsEmpty ? 0 : 1) + (_normal.IsEmpty ? 0 : 1) + (_low.IsEmpty ? 0 : 1);
        HasMixedPriorities = used > 1;
    }
}
