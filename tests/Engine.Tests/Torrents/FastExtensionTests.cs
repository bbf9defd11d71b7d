using System.Net;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>BEP 6 both ways: we grant and honour the allowed-fast set, and we start the pieces a peer suggests.</summary>
public sealed class FastExtensionTests() : TempFolderTest("te-fast-")
{
    private const int PieceLength = 16 * 1024; // one block a piece
    private const int Pieces = 64;
    private static readonly ReservedBits Fast = ReservedBits.None.WithFastExtension(true);

    [Fact]
    public async Task OnPeerConnected_ChokedFastPeer_GrantedCanonicalSetAndServedOnlyThose()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, data) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "seed", "f.bin"), Pieces * PieceLength, 51, ct, PieceLength);
        await using var engine = EngineTestKit.NewEngine();
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "seed") }, ct);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);

        var address = new IPEndPoint(IPAddress.Parse("192.0.2.50"), 6881);
        await using var peer = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, Fast, ct, address);
        var expected = new int[AllowedFastSet.DefaultCount];
        Assert.Equal(expected.Length, AllowedFastSet.Generate(meta.InfoHash.ToArray(), address.Address, Pieces, expected));

        // Never interested, so never unchoked: only the grant lets it download.
        var granted = new List<int>();
        using (var bound = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            bound.CancelAfter(TimeSpan.FromSeconds(5));
            while (granted.Count < expected.Length)
            {
                var m = await peer.ReadAsync(bound.Token);
                Assert.NotEqual(MessageId.Unchoke, m.Id);
                if (m.Id == MessageId.AllowedFast) granted.Add(m.Index);
            }
        }
        Assert.Equal(expected, granted);

        var allowed = expected[3];
        var other = Enumerable.Range(0, Pieces).First(p => !expected.Contains(p));
        await peer.SendAsync(PeerMessage.Request(new BlockRequest(other, 0, PieceLength)), ct);
        await peer.SendAsync(PeerMessage.Request(new BlockRequest(allowed, 0, PieceLength)), ct);
        var rejected = await peer.ReadUntilAsync(m => m.Id is MessageId.RejectRequest or MessageId.Piece, ct);
        Assert.Equal(MessageId.RejectRequest, rejected.Id);
        Assert.Equal(other, rejected.Index);
        var piece = await peer.ReadUntilAsync(m => m.Id is MessageId.RejectRequest or MessageId.Piece, ct);
        Assert.Equal(MessageId.Piece, piece.Id);
        Assert.Equal(allowed, piece.Index);
        Assert.Equal(data.AsSpan(allowed * PieceLength, PieceLength).ToArray(), piece.Body[8..]);
    }

    [Fact]
    public async Task RequestMore_PeerSuggestsPieces_SuggestedRequestedFirstAndDownloadCompletes()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, data) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "seed", "f.bin"), Pieces * PieceLength, 52, ct, PieceLength);
        await using var engine = EngineTestKit.NewEngine();
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "dl") }, ct);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Downloading, ct);

        await using var peer = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, Fast, ct);
        await peer.SendAsync(PeerMessage.HaveAll, ct);
        // Most recent first: 5 was suggested last.
        await peer.SendAsync(PeerMessage.Suggest(41), ct);
        await peer.SendAsync(PeerMessage.Suggest(5), ct);
        await peer.SendAsync(PeerMessage.Unchoke, ct);

        var first = await peer.ReadUntilAsync(m => m.Id == MessageId.Request, ct);
        var second = await peer.ReadUntilAsync(m => m.Id == MessageId.Request, ct);
        Assert.Equal(5, first.Block.PieceIndex);
        Assert.Equal(41, second.Block.PieceIndex);

        await peer.SendAsync(PeerMessage.Piece(5, 0, data.AsMemory(5 * PieceLength, PieceLength)), ct);
        await peer.SendAsync(PeerMessage.Piece(41, 0, data.AsMemory(41 * PieceLength, PieceLength)), ct);
        using var serving = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var server = peer.ServeAsync(data, PieceLength, serving.Token);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
        await serving.CancelAsync();
        await server;
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(Root, "dl", "f.bin"), ct));
    }
}
