namespace TorrentEdge.Engine.Protocol;

/// <summary>
/// Largest payloads the framing accepts, per message kind. A length prefix above these is rejected
/// before any payload is buffered or allocated.
/// </summary>
public readonly record struct FrameLimits
{
    public FrameLimits() { }

    /// <summary>Largest block in a piece message; we never request more than 16 KiB.</summary>
    public int MaxBlockLength { get; init; } = BlockRequest.StandardBlockLength;

    /// <summary>Largest bitfield payload; set to the exact size once the piece count is known.</summary>
    public int MaxBitfieldLength { get; init; } = 256 * 1024;

    /// <summary>Largest extended (BEP 10) payload: metadata pieces are 16 KiB, handshakes small.</summary>
    public int MaxExtendedLength { get; init; } = 1024 * 1024;

    public static FrameLimits Default => new();

    /// <summary>Limits for a torrent whose piece count is known: the bitfield must be exactly that size.</summary>
    public FrameLimits ForPieceCount(int pieceCount) => this with { MaxBitfieldLength = (pieceCount + 7) / 8 };

    /// <summary>The largest length prefix (id byte plus payload) any message may announce.</summary>
    public int MaxMessageLength => Math.Max(Math.Max(9 + MaxBlockLength, 1 + MaxBitfieldLength), 2 + MaxExtendedLength);
}
