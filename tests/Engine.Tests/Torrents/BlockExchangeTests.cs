using System.Buffers;
using System.Net;
using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Tests.Metainfo;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Throttling;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>
/// The block exchange alone, on a fake clock: wire events in, requests, verdicts and strikes out. Its peers are sessions
/// that never run (nothing is read or sent); a fake owner stands in for the torrent.
/// </summary>
public sealed class BlockExchangeTests : IAsyncLifetime
{
    private const int Block = 16 * 1024;
    private const int PieceLength = 2 * Block;

    // Four pieces of two blocks each.
    private static readonly TorrentMetainfo Meta = TorrentMetainfo.Parse(TestTorrents.Torrent(TestTorrents.SingleFileInfo(length: 4 * PieceLength, pieceLength: PieceLength)));

    private readonly FakeTimeProvider _time = new();
    private readonly FakeOwner _owner = new() { Metainfo = Meta };
    private readonly PieceTracker _pieces = new();
    private readonly List<PeerSession> _peers = [];
    private readonly BlockExchange _exchange;
    private ClientEngine? _engine;
    private TorrentManager? _torrent;
    private int _nextAddress;

    public BlockExchangeTests()
    {
        _pieces.Initialise(Meta.PieceCount, Meta.PieceLength, long.MaxValue);
        _pieces.ComputeWanted(Meta, [FilePriority.Normal]);
        _pieces.LoadChecked(new BitField(Meta.PieceCount));
        var (_, download) = new GlobalRateLimits(timeProvider: _time).CreateForTorrent();
        _exchange = new BlockExchange(_owner, Meta.InfoHash, _time, _pieces, _peers, download, new SuperSeeding(false, new Random(1)),
            new Random(1), sequential: true);
        _exchange.ResetPicker();
    }

    public async ValueTask InitializeAsync()
    {
        // Sessions need a torrent to belong to; it stays paused and never sees these peers.
        _engine = EngineTestKit.NewEngine(o => o with { TimeProvider = _time, PieceStores = new InMemoryPieceStoreFactory() });
        _torrent = await _engine.AddAsync(Meta, new AddTorrentOptions { SavePath = Path.GetTempPath(), Paused = true }, TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var p in _peers) p.Close();
        if (_engine is not null) await _engine.DisposeAsync();
    }

    private PeerSession NewPeer()
    {
        var address = new IPEndPoint(IPAddress.Parse("192.0.2." + (10 + _nextAddress++)), 6881);
        var (outgoing, _) = InMemoryPeerConnection.CreatePair(dialled: address);
        var peer = new PeerSession(_torrent!, outgoing, CancellationToken.None) { Registered = true };
        _peers.Add(peer);
        _exchange.PeerRegistered(peer);
        return peer;
    }

    private PeerSession UnchokedSeed()
    {
        var peer = NewPeer();
        _exchange.Handle(new PeerEvent(peer, PeerEventKind.HaveAll));
        _exchange.Handle(new PeerEvent(peer, PeerEventKind.Unchoke));
        _exchange.TopUp();
        return peer;
    }

    private void Deliver(PeerSession peer, int index, int begin)
    {
        var piece = _pieces.GetActive(index)!;
        Assert.True(piece.TryCopy(begin, new ReadOnlySequence<byte>(new byte[Block])));
        _exchange.Handle(new PeerEvent(peer, PeerEventKind.BlockReceived, index, begin, Block, Piece: piece));
    }

    [Fact]
    public void BlockReceived_EveryBlockOfAPiece_CountsTheBytesAndHandsThePieceOn()
    {
        var peer = UnchokedSeed();
        Assert.True(peer.AmInterested);
        Assert.Equal(8, peer.Outstanding.Count);

        Deliver(peer, 0, 0);
        Assert.Empty(_owner.Completed);
        Deliver(peer, 0, Block);

        Assert.Equal(0, Assert.Single(_owner.Completed).Index);
        Assert.Equal(2 * Block, _owner.Downloaded);
        Assert.Equal(2 * Block, peer.Downloaded);
        Assert.Equal([peer], _exchange.TakeContributors(0));
        Assert.Equal(6, peer.Outstanding.Count);
    }

    [Fact]
    public void Choke_FromAPeer_ItsBlocksGoToAnother()
    {
        var first = UnchokedSeed();
        Assert.Equal(8, first.Outstanding.Count);

        _exchange.Handle(new PeerEvent(first, PeerEventKind.Choke));
        Assert.Equal(0, first.Outstanding.Count);
        var second = UnchokedSeed();

        // Not endgame duplicates: the first's blocks are free again, so the second gets each of them.
        Assert.Equal(8, second.Outstanding.Count);
        Deliver(second, 0, 0);
        Deliver(second, 0, Block);
        Assert.Equal([second], _exchange.TakeContributors(0));
    }

    [Fact]
    public void BlockUnrequested_StrikesAndDisconnectsOnce()
    {
        var peer = NewPeer();
        _exchange.Handle(new PeerEvent(peer, PeerEventKind.BlockUnrequested, 0, 0, Block));
        peer.Close(); // what the owner's ProtocolError does
        _exchange.Handle(new PeerEvent(peer, PeerEventKind.BlockUnrequested, 0, Block, Block));

        Assert.Equal((peer, StrikeReason.UnrequestedBlock), Assert.Single(_owner.Strikes));
        Assert.Equal(peer, Assert.Single(_owner.ProtocolErrors));
    }

    [Fact]
    public void Tick_NoBlockFor20Seconds_SnubbedDownToOneRequest()
    {
        var peer = UnchokedSeed();
        _time.Advance(TimeSpan.FromSeconds(19));
        _exchange.Tick();
        _exchange.TopUp();
        Assert.False(peer.Snubbed);
        Assert.Equal(8, peer.Outstanding.Count);

        _time.Advance(TimeSpan.FromSeconds(2));
        _exchange.Tick();
        _exchange.TopUp();
        Assert.True(peer.Snubbed);
        Assert.Equal(1, peer.Outstanding.Count);
    }

    [Fact]
    public void Interested_UnchokedAtOnceWhileFewerThanFive()
    {
        var peers = Enumerable.Range(0, 6).Select(_ => NewPeer()).ToList();
        foreach (var p in peers) _exchange.Handle(new PeerEvent(p, PeerEventKind.Interested));
        Assert.Equal(5, peers.Count(p => !p.AmChoking));
        Assert.True(peers[5].AmChoking);
    }

    [Fact]
    public void TopUp_NotDownloading_RequestsNothing()
    {
        _owner.State = TorrentState.Seeding;
        var peer = UnchokedSeed();
        Assert.Equal(0, peer.Outstanding.Count);
        Assert.False(peer.AmInterested);
    }

    [Fact]
    public void BlockReceivedAndTopUp_Steady_AllocateNothing()
    {
        var peer = UnchokedSeed();
        var data = new ReadOnlySequence<byte>(new byte[Block]);
        // Piece 0 warms up the writer and the picker; pieces 1 and 2 are measured block by block, with the top-ups between.
        Deliver(peer, 0, 0);
        Deliver(peer, 0, Block);
        _exchange.TopUp();
        var pieces = new[] { _pieces.GetActive(1)!, _pieces.GetActive(2)! };
        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var piece in pieces)
        {
            for (var begin = 0; begin < PieceLength; begin += Block)
            {
                piece.TryCopy(begin, data);
                _exchange.Handle(new PeerEvent(peer, PeerEventKind.BlockReceived, piece.Index, begin, Block, Piece: piece));
                _exchange.TopUp();
            }
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(3, _owner.Completed.Count);
        Assert.Equal(0, allocated);
    }

    private sealed class FakeOwner : IBlockExchangeOwner
    {
        public TorrentMetainfo? Metainfo { get; init; }
        public TorrentState State { get; set; } = TorrentState.Downloading;
        public StorageLayout? StorageLayout { get; } = StorageLayout.FromMetainfo(Meta);
        public List<ActivePiece> Completed { get; } = new(4);
        public long Downloaded { get; private set; }
        public List<(PeerSession, StrikeReason)> Strikes { get; } = [];
        public List<PeerSession> ProtocolErrors { get; } = [];

        public void PieceCompleted(ActivePiece piece) => Completed.Add(piece);
        public void BlockDownloaded(int length) => Downloaded += length;
        public void Strike(PeerSession peer, StrikeReason offence) => Strikes.Add((peer, offence));
        public void ProtocolError(PeerSession peer) => ProtocolErrors.Add(peer);
    }
}
