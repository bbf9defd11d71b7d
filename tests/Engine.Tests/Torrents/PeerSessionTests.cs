using System.Net;
using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Throttling;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>
/// A peer session alone, against a fake torrent (<see cref="IPeerSessionOwner"/>): no engine, no loop. What the remote
/// sends must reach the owner's queue as typed events in the order sent, stamped by the owner's clock, and a block
/// nobody asked this peer for must never be copied anywhere.
/// </summary>
public sealed class PeerSessionTests
{
    private static readonly byte[] InfoHash = Enumerable.Range(1, 20).Select(i => (byte)i).ToArray();

    private sealed class FakeTorrent : IPeerSessionOwner
    {
        private readonly (BandwidthLimiter Upload, BandwidthLimiter Download) _limits;

        public FakeTorrent(FakeTimeProvider time)
        {
            TimeProvider = time;
            _limits = new GlobalRateLimits(timeProvider: time).CreateForTorrent();
        }

        public TimeProvider TimeProvider { get; }
        public EngineMetrics Metrics => throw new NotSupportedException("these tests upload nothing");
        public FrameLimits FrameLimits => FrameLimits.Default;
        public LoopQueue Queue { get; } = new(64);
        public BandwidthLimiter DownloadLimiter => _limits.Download;
        public BandwidthLimiter UploadLimiter => _limits.Upload;
        public IPieceStore? Storage => null;
        public int ActivePieceLookups;
        public int HalfOpenReleases;

        public ActivePiece? GetActivePiece(int index)
        {
            Interlocked.Increment(ref ActivePieceLookups);
            return null;
        }

        public bool Post(in LoopItem item) => Queue.Post(item);
        public bool Post(TorrentMessage message) => Queue.Post(message);
        public void ReleaseHalfOpen() => Interlocked.Increment(ref HalfOpenReleases);

        public async Task<PeerEvent> NextAsync(CancellationToken ct)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            wait.CancelAfter(TimeSpan.FromSeconds(10));
            while (true)
            {
                if (Queue.TryRead(out var item))
                {
                    Assert.Null(item.Message);
                    return item.Peer;
                }
                await Queue.WaitToReadAsync(wait.Token);
            }
        }
    }

    [Fact]
    public async Task Run_RemoteSendsHandshakeAndMessages_OwnerGetsTypedEventsInOrderOnItsClock()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
        var torrent = new FakeTorrent(time);
        var (ours, theirs) = InMemoryPeerConnection.CreatePair(dialled: new IPEndPoint(IPAddress.Parse("192.0.2.7"), 6881));
        var session = new PeerSession(torrent, ours, CancellationToken.None) { HoldsHalfOpenSlot = true };
        var ourHandshake = new Handshake(ReservedBits.Default, InfoHash, PeerId.Generate("-TE0001-"));
        time.Advance(TimeSpan.FromSeconds(42));
        var run = session.RunAsync(null, null, ourHandshake);

        using var remote = new PeerWireWriter(theirs);
        remote.Write(new Handshake(ReservedBits.Default, InfoHash, PeerId.Generate("-XX0001-")));
        remote.Write(PeerMessage.Have(3));
        // Never requested from this peer: the session must drop it before any piece buffer is looked up.
        remote.Write(PeerMessage.Piece(1, 0, new byte[BlockRequest.StandardBlockLength]));
        remote.Write(PeerMessage.Interested);
        await remote.FlushAsync(ct);

        var connected = await torrent.NextAsync(ct);
        Assert.Equal(PeerEventKind.Connected, connected.Kind);
        Assert.Same(session, connected.Peer);
        Assert.Equal(time.NowMilliseconds(), session.LastReceiveTicks);
        Assert.Equal(1, torrent.HalfOpenReleases);

        var have = await torrent.NextAsync(ct);
        Assert.Equal((PeerEventKind.Have, 3), (have.Kind, have.Index));
        var unrequested = await torrent.NextAsync(ct);
        Assert.Equal((PeerEventKind.BlockUnrequested, 1, 0, BlockRequest.StandardBlockLength),
            (unrequested.Kind, unrequested.Index, unrequested.Begin, unrequested.Length));
        Assert.Null(unrequested.Piece);
        Assert.Equal(PeerEventKind.Interested, (await torrent.NextAsync(ct)).Kind);
        Assert.Equal(0, torrent.ActivePieceLookups);

        await theirs.DisposeAsync();
        Assert.Equal(PeerEventKind.Closed, (await torrent.NextAsync(ct)).Kind);
        await run.WaitAsync(TimeSpan.FromSeconds(10), ct);
        Assert.True(session.IsClosed);
        Assert.Equal(1, torrent.HalfOpenReleases);
    }

    [Fact]
    public async Task Run_RemoteSendsAnotherTorrentsHandshake_ClosesWithoutTellingTheOwnerOfAConnection()
    {
        var ct = TestContext.Current.CancellationToken;
        var torrent = new FakeTorrent(new FakeTimeProvider());
        var (ours, theirs) = InMemoryPeerConnection.CreatePair(dialled: new IPEndPoint(IPAddress.Parse("192.0.2.8"), 6881));
        var session = new PeerSession(torrent, ours, CancellationToken.None);
        var run = session.RunAsync(null, null, new Handshake(ReservedBits.Default, InfoHash, PeerId.Generate("-TE0001-")));

        using var remote = new PeerWireWriter(theirs);
        var otherHash = InfoHash.Reverse().ToArray();
        remote.Write(new Handshake(ReservedBits.Default, otherHash, PeerId.Generate("-XX0001-")));
        await remote.FlushAsync(ct);

        Assert.Equal(PeerEventKind.Closed, (await torrent.NextAsync(ct)).Kind);
        await run.WaitAsync(TimeSpan.FromSeconds(10), ct);
        Assert.Equal(0, torrent.HalfOpenReleases);
    }
}
