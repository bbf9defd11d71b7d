namespace TorrentEdge.Engine.Protocol;

/// <summary>A block of a piece: the body of request, cancel and reject messages, and what the picker hands out.</summary>
public readonly record struct BlockRequest(int PieceIndex, int Begin, int Length)
{
    /// <summary>The standard block size (16 KiB) every client accepts.</summary>
    public const int StandardBlockLength = 16 * 1024;

    public override string ToString() => $"piece {PieceIndex} @{Begin}+{Length}";
}
