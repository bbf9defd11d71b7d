namespace TorrentEdge.Engine.PiecePicking;

/// <summary>Which picking strategies to chain, and their parameters.</summary>
public sealed record PiecePickerSettings
{
    public static PiecePickerSettings Default { get; } = new();

    /// <summary>Until this many pieces are verified, start random pieces (to have something to trade soon).</summary>
    public int RandomFirstPieces { get; init; } = 4;

    /// <summary>Start the rarest pieces first (otherwise the lowest-numbered available one).</summary>
    public bool RarestFirst { get; init; } = true;

    /// <summary>Start pieces in order from <see cref="PiecePicker.SequentialPosition"/> (streaming); overrides rarest and random first.</summary>
    public bool Sequential { get; init; }

    /// <summary>
    /// Endgame budget: once every wanted piece is started, how many other peers may also be asked for a block
    /// already in flight. 0 turns endgame off.
    /// </summary>
    public int MaxDuplicateRequests { get; init; } = 2;

    /// <summary>Start pieces a peer suggested (BEP 6 Suggest Piece) before the rarest-first choice; not in sequential mode.</summary>
    public bool HonourSuggestions { get; init; } = true;

    /// <summary>
    /// Pieces started and not yet verified or failed (each holds a piece-sized buffer while it downloads and hashes);
    /// at the cap no new piece is started, and peers help with the started ones or wait.
    /// </summary>
    public int MaxActivePieces { get; init; } = int.MaxValue;

    /// <summary>Block size; 16 KiB is what every client accepts.</summary>
    public int BlockLength { get; init; } = Protocol.BlockRequest.StandardBlockLength;
}
