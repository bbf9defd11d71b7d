using TorrentEdge.Engine.Common;

namespace TorrentEdge.Engine.PiecePicking;

/// <summary>What the picker may know about a peer: the narrow view it picks blocks for.</summary>
public interface IPieceRequester
{
    /// <summary>The pieces the peer has (from its bitfield, have-all and haves).</summary>
    BitField Pieces { get; }

    /// <summary>Whether the peer chokes us (then only <see cref="AllowedFast"/> pieces may be requested).</summary>
    bool IsChokingUs { get; }

    /// <summary>Pieces the peer lets us request even while it chokes us (BEP 6).</summary>
    ReadOnlySpan<int> AllowedFast { get; }

    /// <summary>Pieces the peer suggested (BEP 6 Suggest Piece), most recent first; the chain prefers them when starting a piece.</summary>
    ReadOnlySpan<int> Suggested => [];

    /// <summary>Whether the peer stopped sending what we asked for; it gets one block at a time.</summary>
    bool IsSnubbed { get; }
}
