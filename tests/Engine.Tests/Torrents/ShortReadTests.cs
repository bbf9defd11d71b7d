using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>A file that shrinks under a seeding torrent: the piece it breaks is flagged and checked again, and nothing wrong is sent.</summary>
public sealed class ShortReadTests() : TempFolderTest("te-shortread-")
{
    [Fact]
    public async Task UploadRead_FileTruncatedUnderSeed_PieceMarkedMissingRecheckedAndNothingSent()
    {
        var ct = TestContext.Current.CancellationToken;
        const int pieceLength = 32 * 1024;
        var path = Path.Combine(Root, "seed", "f.bin");
        var (meta, data) = await EngineTestKit.SingleFileAsync(path, 4 * pieceLength, 41, ct, pieceLength);
        await using var engine = EngineTestKit.NewEngine();
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "seed") }, ct);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);

        await using var peer = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct);
        await peer.SendAsync(PeerMessage.Interested, ct);
        await peer.ReadUntilAsync(m => m.Id == MessageId.Unchoke, ct);

        // Piece 2 keeps a quarter, piece 3 is gone.
        await using (var f = File.Open(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
            f.SetLength(2 * pieceLength + 8 * 1024);
        await peer.SendAsync(PeerMessage.Request(new BlockRequest(3, 0, BlockRequest.StandardBlockLength)), ct);

        await EngineTestKit.WaitForAsync(t, x => x.PiecesHave == 3, ct, TimeSpan.FromSeconds(10));
        Assert.Equal(TorrentState.Downloading, t.Status.State);
        Assert.Contains(EngineTestKit.DrainEvents(engine), e => e is PieceReadFailedEvent { Piece: 3 });

        // Intact pieces are still served, right; piece 3 never was.
        await peer.SendAsync(PeerMessage.Request(new BlockRequest(0, 0, BlockRequest.StandardBlockLength)), ct);
        var piece = await peer.ReadUntilAsync(m => m.Id == MessageId.Piece, ct);
        Assert.Equal(0, piece.Index);
        Assert.Equal(data.AsSpan(0, BlockRequest.StandardBlockLength).ToArray(), piece.Body[8..]);

        // A request for the flagged piece now is not served either (it is no longer ours).
        await peer.SendAsync(PeerMessage.Request(new BlockRequest(3, 0, BlockRequest.StandardBlockLength)), ct);
        using var quiet = CancellationTokenSource.CreateLinkedTokenSource(ct);
        quiet.CancelAfter(TimeSpan.FromMilliseconds(500));
        try
        {
            var m = await peer.ReadUntilAsync(m => m.Id == MessageId.Piece, quiet.Token);
            Assert.Fail($"a block of piece {m.Index} was sent after the file shrank");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }
    }
}
