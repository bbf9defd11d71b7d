using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>Super-seeding (BEP 16) in the torrent loop: pieces offered one at a time by HAVE, and a swarm that still completes.</summary>
public sealed class SuperSeedingTests() : TempFolderTest("te-superseed-")
{
    private const int PieceLength = 16 * 1024;

    private async Task<(ClientEngine Engine, TorrentManager Torrent, TorrentMetainfo Meta, byte[] Data)> SuperSeederAsync(CancellationToken ct)
    {
        var (meta, data) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "seed", "content.bin"), 10 * PieceLength - 123, 51, ct);
        var engine = EngineTestKit.NewEngine();
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "seed"), SuperSeed = true }, ct);
        await EngineTestKit.WaitForAsync(t, s => s.State == TorrentState.Seeding, ct);
        return (engine, t, meta, data);
    }

    [Fact]
    public async Task Leecher_Connects_SeesNoBitfieldAndOnlyTheOfferedPieces()
    {
        var ct = TestContext.Current.CancellationToken;
        var (engine, seed, meta, data) = await SuperSeederAsync(ct);
        await using var _e = engine;
        await using var leecher = await ScriptedPeer.ConnectAsync(seed, meta.InfoHash, ReservedBits.Default, ct);

        var first = await leecher.ReadUntilAsync(m => m.Id is MessageId.Have or MessageId.Bitfield or MessageId.HaveAll, ct);
        Assert.Equal(MessageId.Have, first.Id);
        var offered = first.Index;
        await leecher.SendAsync(PeerMessage.Interested, ct);
        await leecher.ReadUntilAsync(m => m.Id == MessageId.Unchoke, ct);

        // A piece it was not offered is refused; the offered one is served.
        var other = new BlockRequest((offered + 1) % meta.PieceCount, 0, PieceLength);
        await leecher.SendAsync(PeerMessage.Request(other), ct);
        var refused = await leecher.ReadUntilAsync(m => m.Id is MessageId.RejectRequest or MessageId.Piece or MessageId.Have, ct);
        Assert.Equal(MessageId.RejectRequest, refused.Id);
        Assert.Equal(other, refused.Block);
        var length = (int)Math.Min(PieceLength, meta.TotalLength - (long)offered * PieceLength);
        await leecher.SendAsync(PeerMessage.Request(new BlockRequest(offered, 0, length)), ct);
        var piece = await leecher.ReadUntilAsync(m => m.Id is MessageId.Piece or MessageId.Have, ct);
        Assert.Equal(MessageId.Piece, piece.Id);
        Assert.Equal(data.AsSpan(offered * PieceLength, length).ToArray(), piece.Body[8..]);

        // Having it earns the next piece, and only then.
        await leecher.SendAsync(PeerMessage.Have(offered), ct);
        var next = await leecher.ReadUntilAsync(m => m.Id is MessageId.Have or MessageId.Bitfield or MessageId.HaveAll, ct);
        Assert.Equal(MessageId.Have, next.Id);
        Assert.NotEqual(offered, next.Index);
    }

    [Fact]
    public async Task Swarm_TwoLeechersAndASuperSeeder_BothCompleteByteForByte()
    {
        var ct = TestContext.Current.CancellationToken;
        var (engine, seed, meta, data) = await SuperSeederAsync(ct);
        await using var _e = engine;
        await using var a = EngineTestKit.NewEngine();
        await using var b = EngineTestKit.NewEngine();
        var ta = await a.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "a") }, ct);
        var tb = await b.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "b") }, ct);
        await EngineTestKit.WaitForAsync(ta, s => s.State == TorrentState.Downloading, ct);
        await EngineTestKit.WaitForAsync(tb, s => s.State == TorrentState.Downloading, ct);

        await EngineTestKit.ConnectAsync(ta, engine);
        await EngineTestKit.ConnectAsync(tb, engine);
        await EngineTestKit.ConnectAsync(ta, b);

        await EngineTestKit.WaitForAsync(ta, s => s.State == TorrentState.Seeding, ct);
        await EngineTestKit.WaitForAsync(tb, s => s.State == TorrentState.Seeding, ct);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(Root, "a", "content.bin"), ct));
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(Root, "b", "content.bin"), ct));
    }
}
