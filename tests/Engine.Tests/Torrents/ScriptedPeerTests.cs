using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Creation;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>The torrent loop against a peer scripted message by message over an in-memory connection.</summary>
public sealed class ScriptedPeerTests() : TempFolderTest("te-scripted-")
{
    private async Task<TorrentManager> DownloadingAsync(ClientEngine engine, TorrentMetainfo meta, AddTorrentOptions options, CancellationToken ct)
    {
        var t = await engine.AddAsync(meta, options with { SavePath = Path.Combine(Root, "dl") }, ct);
        await EngineTestKit.WaitForAsync(t, s => s.State == TorrentState.Downloading, ct);
        return t;
    }

    /// <summary>Records the pieces of the requests the engine sends until <paramref name="count"/> arrived, then listens <paramref name="linger"/> longer.</summary>
    private static async Task<List<int>> RecordRequestsAsync(ScriptedPeer peer, int count, TimeSpan linger, CancellationToken ct)
    {
        var requested = new List<int>();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        try
        {
            while (true)
            {
                var m = await peer.ReadAsync(timeout.Token);
                if (m.Id != MessageId.Request) continue;
                requested.Add(m.Index);
                if (requested.Count == count)
                {
                    if (linger == TimeSpan.Zero) break;
                    timeout.CancelAfter(linger);
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
        }
        return requested;
    }

    [Fact]
    public async Task FilePriorities_HighLowSkip_HighPiecesRequestedFirstSkipNever()
    {
        var ct = TestContext.Current.CancellationToken;
        const int pieceLength = 16 * 1024;
        var folder = Path.Combine(Root, "content");
        Directory.CreateDirectory(folder);
        var random = new Random(21);
        foreach (var name in new[] { "a.bin", "b.bin", "c.bin" })
        {
            var bytes = new byte[3 * pieceLength];
            random.NextBytes(bytes);
            await File.WriteAllBytesAsync(Path.Combine(folder, name), bytes, ct);
        }
        var meta = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(folder, new TorrentCreatorOptions { PieceLength = pieceLength }, ct));
        Assert.Equal(9, meta.PieceCount);
        var priorities = meta.Files.Select(f => f.Path.EndsWith("a.bin", StringComparison.Ordinal) ? FilePriority.Low
            : f.Path.EndsWith("b.bin", StringComparison.Ordinal) ? FilePriority.High : FilePriority.Skip).ToArray();
        int PieceOf(string name) => (int)(meta.Files.Single(f => f.Path.EndsWith(name, StringComparison.Ordinal)).Offset / pieceLength);
        var low = Enumerable.Range(PieceOf("a.bin"), 3).ToHashSet();
        var high = Enumerable.Range(PieceOf("b.bin"), 3).ToHashSet();
        await using var engine = EngineTestKit.NewEngine();
        var t = await DownloadingAsync(engine, meta, new AddTorrentOptions { FilePriorities = priorities }, ct);

        await using var seed = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct);
        // Bitfield with all 9 pieces, then unchoke; the requests are recorded, never answered.
        await seed.SendAsync(PeerMessage.Bitfield(new byte[] { 0xFF, 0x80 }), ct);
        await seed.SendAsync(PeerMessage.Unchoke, ct);
        // Once the wanted pieces are all asked for, listen a little longer for anything skipped.
        var requested = await RecordRequestsAsync(seed, 6, TimeSpan.FromSeconds(1), ct);

        Assert.Equal(6, requested.Count);
        Assert.Equal(high, requested.Take(3).ToHashSet());
        Assert.Equal(low, requested.Skip(3).ToHashSet());
    }

    [Fact]
    public async Task Sequential_AllPiecesOffered_RequestsInPieceOrder()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, _) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "seq.bin"), 10 * 16 * 1024, 22, ct);
        await using var engine = EngineTestKit.NewEngine();
        var t = await DownloadingAsync(engine, meta, new AddTorrentOptions { Sequential = true }, ct);

        await using var seed = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct);
        await seed.SendAsync(PeerMessage.Bitfield(new byte[] { 0xFF, 0xC0 }), ct);
        await seed.SendAsync(PeerMessage.Unchoke, ct);
        var requested = await RecordRequestsAsync(seed, 10, TimeSpan.Zero, ct);

        Assert.Equal(Enumerable.Range(0, 10), requested);
    }

    [Fact]
    public async Task CorruptPeer_SendsGarbageForThreePieces_IsBannedAndDisconnected()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, _) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "content.bin"), 10 * 16 * 1024, 9, ct);
        await using var engine = EngineTestKit.NewEngine();
        var t = await DownloadingAsync(engine, meta, new AddTorrentOptions(), ct);

        await using var liar = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct);
        await liar.SendAsync(PeerMessage.Bitfield(new byte[] { 0xFF, 0xC0 }), ct);
        await liar.SendAsync(PeerMessage.Unchoke, ct);
        var garbage = new byte[16 * 1024];
        var closed = false;
        Exception? ending = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        try
        {
            while (true)
            {
                var m = await liar.ReadAsync(timeout.Token);
                if (m.Id != MessageId.Request) continue;
                await liar.SendAsync(PeerMessage.Piece(m.Block.PieceIndex, m.Block.Begin, garbage), timeout.Token);
            }
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidOperationException or ObjectDisposedException or IOException)
        {
            closed = true;
            ending = e;
        }

        Assert.True(closed);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (t.Status.BannedPeers == 0 && DateTime.UtcNow < deadline) await Task.Delay(20, ct);
        Assert.True(t.Status.HashFailures >= 3, t.Status + "\n" + ending);
        Assert.Equal(0, t.Status.PiecesHave);
        Assert.Single(EngineTestKit.DrainEvents(engine).OfType<PeerBannedEvent>());
        Assert.Equal(1, t.Status.BannedPeers);
    }

    [Fact]
    public async Task Endgame_LastBlockRequestedFromTwoPeers_CancelSentToTheSlowerOne()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, data) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "one.bin"), 16 * 1024, 31, ct);
        await using var engine = EngineTestKit.NewEngine();
        var t = await DownloadingAsync(engine, meta, new AddTorrentOptions(), ct);

        await using var slow = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct);
        await slow.SendAsync(PeerMessage.Bitfield(new byte[] { 0x80 }), ct);
        await slow.SendAsync(PeerMessage.Unchoke, ct);
        var first = await slow.ReadUntilAsync(m => m.Id == MessageId.Request, ct);
        await using var fast = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct);
        await fast.SendAsync(PeerMessage.Bitfield(new byte[] { 0x80 }), ct);
        await fast.SendAsync(PeerMessage.Unchoke, ct);
        // Only one block exists and it is in flight: endgame asks the second peer for it too.
        var duplicate = await fast.ReadUntilAsync(m => m.Id == MessageId.Request, ct);
        Assert.Equal(first.Block, duplicate.Block);

        await fast.SendAsync(PeerMessage.Piece(0, 0, data), ct);

        var cancel = await slow.ReadUntilAsync(m => m.Id == MessageId.Cancel, ct);
        Assert.Equal(first.Block, cancel.Block);
        await EngineTestKit.WaitForAsync(t, s => s.State == TorrentState.Seeding, ct);
    }

    [Fact]
    public async Task Snubbed_NoBlockForTwentySeconds_RequestsCancelledThenOneAtATime()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (meta, _) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "two.bin"), 2 * 16 * 1024, 32, ct);
        await using var engine = EngineTestKit.NewEngine(time: time);
        var t = await DownloadingAsync(engine, meta, new AddTorrentOptions(), ct);
        await using var stalling = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct);
        await stalling.SendAsync(PeerMessage.Bitfield(new byte[] { 0xC0 }), ct);
        await stalling.SendAsync(PeerMessage.Unchoke, ct);
        var requested = new HashSet<BlockRequest>
        {
            (await stalling.ReadUntilAsync(m => m.Id == MessageId.Request, ct)).Block,
            (await stalling.ReadUntilAsync(m => m.Id == MessageId.Request, ct)).Block,
        };

        // Ticks come from the fake clock; 21 of them pass the 20 s snub limit with no block.
        var cancels = new HashSet<BlockRequest>();
        var reading = Task.Run(async () =>
        {
            while (cancels.Count < 2) cancels.Add((await stalling.ReadUntilAsync(m => m.Id == MessageId.Cancel, ct)).Block);
        }, ct);
        for (var i = 0; i < 25 && !reading.IsCompleted; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(50, ct);
        }
        await reading.WaitAsync(TimeSpan.FromSeconds(10), ct);

        Assert.Equal(requested, cancels);
        // Snubbed: one block at a time from now on.
        var again = await stalling.ReadUntilAsync(m => m.Id == MessageId.Request, ct);
        Assert.Contains(again.Block, requested);
    }
}
