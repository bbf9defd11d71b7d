using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.PiecePicking;

namespace TorrentEdge.Engine.Tests.PiecePicking;

internal sealed class TestPeer(int pieceCount, string name = "peer") : IPieceRequester
{
    public BitField Pieces { get; } = new(pieceCount);
    public bool IsChokingUs { get; set; }
    public int[] AllowedFastPieces { get; set; } = [];
    public ReadOnlySpan<int> AllowedFast => AllowedFastPieces;
    public bool IsSnubbed { get; set; }
    public int[] SuggestedPieces { get; set; } = [];
    public ReadOnlySpan<int> Suggested => SuggestedPieces;

    public static TestPeer Seed(int pieceCount, string name = "seed")
    {
        var peer = new TestPeer(pieceCount, name);
        peer.Pieces.SetAll(true);
        return peer;
    }

    public TestPeer With(params int[] pieces)
    {
        foreach (var p in pieces) Pieces[p] = true;
        return this;
    }

    public override string ToString() => name;
}
