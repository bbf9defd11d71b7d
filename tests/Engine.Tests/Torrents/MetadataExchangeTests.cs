using TorrentEdge.Engine.Magnet;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>BEP 10 / BEP 9 in the torrent loop against hostile scripted peers: malformed input costs the peer its connection, never the loop.</summary>
public sealed class MetadataExchangeTests() : TempFolderTest("te-metadata-")
{
    private const byte TheirUtMetadataId = 7;

    private async Task<(ClientEngine Engine, TorrentManager Torrent, TorrentMetainfo Meta, byte[] Data)> MagnetAsync(CancellationToken ct)
    {
        var (meta, data) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "seed", "content.bin"), 5 * 16 * 1024 + 99, 41, ct);
        var engine = EngineTestKit.NewEngine();
        var t = await engine.AddMagnetAsync(new MagnetLink(meta.InfoHash), new AddTorrentOptions { SavePath = Path.Combine(Root, "dl") }, ct);
        await EngineTestKit.WaitForAsync(t, s => s.State == TorrentState.FetchingMetadata, ct);
        return (engine, t, meta, data);
    }

    private static PeerMessage Handshake(int? metadataSize) => new ExtensionHandshake
    {
        Extensions = { [ExtensionNames.UtMetadata] = TheirUtMetadataId },
        MetadataSize = metadataSize,
    }.ToMessage();

    /// <summary>Reads the engine's extension handshake and returns the id it wants ut_metadata messages under.</summary>
    private static async Task<byte> EngineUtMetadataIdAsync(ScriptedPeer peer, CancellationToken ct)
    {
        var m = await peer.ReadUntilAsync(x => x.Id == MessageId.Extended && x.ExtendedId == 0, ct);
        Assert.True(ExtensionHandshake.TryParse(m.ExtendedBody, out var theirs));
        var id = theirs!.GetId(ExtensionNames.UtMetadata);
        Assert.NotEqual(0, id);
        return id;
    }

    /// <summary>A scripted peer that offers metadata of <paramref name="size"/> bytes; returns it with the engine's ut_metadata id.</summary>
    private static async Task<(ScriptedPeer Peer, byte EngineId)> MetadataSourceAsync(TorrentManager t, int size, CancellationToken ct)
    {
        var peer = await ScriptedPeer.ConnectAsync(t, t.InfoHash, ReservedBits.Default, ct);
        var engineId = await EngineUtMetadataIdAsync(peer, ct);
        await peer.SendAsync(Handshake(size), ct);
        return (peer, engineId);
    }

    private static async Task<MetadataMessage> ReadMetadataRequestAsync(ScriptedPeer peer, CancellationToken ct)
    {
        var m = await peer.ReadUntilAsync(x => x.Id == MessageId.Extended && x.ExtendedId == TheirUtMetadataId, ct);
        Assert.True(MetadataMessage.TryParse(m.ExtendedBody, out var request));
        Assert.Equal(MetadataMessageType.Request, request.Type);
        return request;
    }

    private static PeerMessage Metadata(byte id, MetadataMessage message)
    {
        var body = new byte[message.BodyLength];
        message.EncodeBody(body);
        return PeerMessage.Extended(id, body);
    }

    [Fact]
    public async Task ExtensionHandshake_NotBencoded_PeerDisconnectedAndCounted()
    {
        var ct = TestContext.Current.CancellationToken;
        var (engine, t, _, _) = await MagnetAsync(ct);
        await using var _e = engine;
        await using var peer = await ScriptedPeer.ConnectAsync(t, t.InfoHash, ReservedBits.Default, ct);

        await peer.SendAsync(PeerMessage.Extended(0, "d1:mi1e"u8.ToArray()), ct);

        Assert.True(await peer.ClosedWithinAsync(TimeSpan.FromSeconds(10), ct));
        await EngineTestKit.WaitForAsync(t, s => s.ProtocolErrors == 1 && s.Peers == 0, ct);
        Assert.Equal(TorrentState.FetchingMetadata, t.State);
    }

    [Fact]
    public async Task ExtendedMessage_ExtensionBitNotNegotiated_PeerDisconnectedAndCounted()
    {
        var ct = TestContext.Current.CancellationToken;
        var (engine, t, meta, _) = await MagnetAsync(ct);
        await using var _e = engine;
        await using var peer = await ScriptedPeer.ConnectAsync(t, t.InfoHash, ReservedBits.None, ct);

        await peer.SendAsync(Handshake(meta.InfoBytes.Length), ct);

        Assert.True(await peer.ClosedWithinAsync(TimeSpan.FromSeconds(10), ct));
        await EngineTestKit.WaitForAsync(t, s => s.ProtocolErrors == 1, ct);
    }

    [Fact]
    public async Task ExtensionHandshake_MetadataSizeMissing_PeerKeptButNotAsked()
    {
        var ct = TestContext.Current.CancellationToken;
        var (engine, t, _, _) = await MagnetAsync(ct);
        await using var _e = engine;
        await using var peer = await ScriptedPeer.ConnectAsync(t, t.InfoHash, ReservedBits.Default, ct);
        await EngineUtMetadataIdAsync(peer, ct);

        // BEP 9 makes metadata_size optional: such a peer is no metadata source, but did nothing wrong.
        await peer.SendAsync(Handshake(metadataSize: null), ct);

        Assert.False(await peer.ClosedWithinAsync(TimeSpan.FromSeconds(1.5), ct));
        Assert.Equal(0, t.Status.ProtocolErrors);
        Assert.Equal(1, t.Status.Peers);
    }

    [Fact]
    public async Task UtMetadata_DataWithoutPieceField_PeerDisconnectedAndCounted()
    {
        var ct = TestContext.Current.CancellationToken;
        var (engine, t, meta, _) = await MagnetAsync(ct);
        await using var _e = engine;
        var (peer, engineId) = await MetadataSourceAsync(t, meta.InfoBytes.Length, ct);
        await using var _p = peer;
        await ReadMetadataRequestAsync(peer, ct);

        await peer.SendAsync(PeerMessage.Extended(engineId, "d8:msg_typei1e10:total_sizei5ee"u8.ToArray()), ct);

        Assert.True(await peer.ClosedWithinAsync(TimeSpan.FromSeconds(10), ct));
        await EngineTestKit.WaitForAsync(t, s => s.ProtocolErrors == 1, ct);
        Assert.False(t.Status.HasMetadata);
    }

    [Fact]
    public async Task UtMetadata_PiecesFailTheInfoHash_DiscardedPeerDisconnectedHonestSeederStillServes()
    {
        var ct = TestContext.Current.CancellationToken;
        var (engine, t, meta, data) = await MagnetAsync(ct);
        await using var _e = engine;
        var size = meta.InfoBytes.Length;
        var (liar, engineId) = await MetadataSourceAsync(t, size, ct);
        await using var _p = liar;
        var forged = meta.InfoBytes.ToArray();
        forged[^2] ^= 0x55; // well-formed messages, wrong bytes
        var pieces = MetadataMessage.PieceCount(size);
        for (var i = 0; i < pieces; i++)
        {
            var asked = await ReadMetadataRequestAsync(liar, ct);
            var offset = asked.Piece * MetadataMessage.PieceLength;
            await liar.SendAsync(Metadata(engineId, MetadataMessage.DataPiece(asked.Piece, size,
                forged.AsMemory(offset, MetadataMessage.GetPieceLength(size, asked.Piece)))), ct);
        }

        Assert.True(await liar.ClosedWithinAsync(TimeSpan.FromSeconds(10), ct));
        await EngineTestKit.WaitForAsync(t, s => s.MetadataHashFailures == 1, ct);
        Assert.False(t.Status.HasMetadata);

        // The loop lives on: an honest seeder supplies the real metadata and the data.
        await using var seeder = EngineTestKit.NewEngine();
        var s = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "seed") }, ct);
        await EngineTestKit.WaitForAsync(s, x => x.State == TorrentState.Seeding, ct);
        await EngineTestKit.ConnectAsync(t, seeder);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
        Assert.Equal(meta.InfoBytes.ToArray(), t.Metainfo!.InfoBytes.ToArray());
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(Root, "dl", "content.bin"), ct));
    }

    [Fact]
    public async Task ExtensionHandshake_LiarAnnouncesWrongSizeIsAskedAndLeaves_HonestSeederCompletesTheMagnet()
    {
        var ct = TestContext.Current.CancellationToken;
        var (engine, t, meta, data) = await MagnetAsync(ct);
        await using var _e = engine;
        // A size two pieces long where the real metadata is one: whoever is asked first sets the size of the buffer.
        var (liar, _) = await MetadataSourceAsync(t, meta.InfoBytes.Length + 20_000, ct);
        await ReadMetadataRequestAsync(liar, ct);
        await liar.DisposeAsync();
        await EngineTestKit.WaitForAsync(t, s => s.Peers == 0, ct);

        await using var seeder = EngineTestKit.NewEngine();
        var s = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "seed") }, ct);
        await EngineTestKit.WaitForAsync(s, x => x.State == TorrentState.Seeding, ct);
        await EngineTestKit.ConnectAsync(t, seeder);

        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Seeding, ct, TimeSpan.FromSeconds(20));
        Assert.Equal(meta.InfoBytes.ToArray(), t.Metainfo!.InfoBytes.ToArray());
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(Root, "dl", "content.bin"), ct));
    }

    [Fact]
    public async Task ExtensionHandshake_TwoSilentLiarsAgreeOnAWrongSize_HonestSeederStillCompletesTheMagnet()
    {
        var ct = TestContext.Current.CancellationToken;
        var (engine, t, meta, _) = await MagnetAsync(ct);
        await using var _e = engine;
        // They outnumber the honest seeder and stay connected, but never answer: their size must not win for ever.
        var wrong = meta.InfoBytes.Length + 20_000;
        var (liar1, _) = await MetadataSourceAsync(t, wrong, ct);
        await using var _l1 = liar1;
        await ReadMetadataRequestAsync(liar1, ct);
        var (liar2, _) = await MetadataSourceAsync(t, wrong, ct);
        await using var _l2 = liar2;

        await using var seeder = EngineTestKit.NewEngine();
        var s = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "seed") }, ct);
        await EngineTestKit.WaitForAsync(s, x => x.State == TorrentState.Seeding, ct);
        await EngineTestKit.ConnectAsync(t, seeder);

        await EngineTestKit.WaitForAsync(t, x => x.HasMetadata, ct, TimeSpan.FromSeconds(20));
        Assert.Equal(meta.InfoBytes.ToArray(), t.Metainfo!.InfoBytes.ToArray());
    }
}
