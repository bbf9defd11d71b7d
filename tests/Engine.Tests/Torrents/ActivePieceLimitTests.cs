using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>The memory of pieces being downloaded stays under <see cref="EngineOptions.MaxActivePieceBytes"/>.</summary>
public sealed class ActivePieceLimitTests() : TempFolderTest("te-activecap-")
{
    [Fact]
    public async Task RequestMore_ActivePieceBytesCapped_NeverMorePiecesInFlightAndDownloadCompletes()
    {
        var ct = TestContext.Current.CancellationToken;
        const int pieceLength = 32 * 1024; // two blocks a piece
        const int pieces = 16;
        var (meta, data) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "seed", "f.bin"), pieces * pieceLength, 31, ct, pieceLength);
        await using var engine = EngineTestKit.NewEngine(o => o with { MaxActivePieceBytes = 2 * pieceLength });
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "dl") }, ct);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Downloading, ct);
        await using var peer = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct);
        await peer.SendAsync(PeerMessage.Bitfield(new byte[] { 0xFF, 0xFF }), ct);
        await peer.SendAsync(PeerMessage.Unchoke, ct);

        // Rounds: take every request the engine sends until it goes quiet (its pipeline is 32 blocks deep, room for all
        // 16 pieces), note how many pieces they span, then answer them all.
        var maxPiecesInFlight = 0;
        var rounds = 0;
        var deadline = DateTime.UtcNow + EngineTestKit.Bound;
        while (t.Status.State != TorrentState.Seeding && DateTime.UtcNow < deadline)
        {
            var batch = new List<BlockRequest>();
            while (true)
            {
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(ct);
                quiet.CancelAfter(TimeSpan.FromMilliseconds(300));
                try
                {
                    var m = await peer.ReadAsync(quiet.Token);
                    if (m.Id == MessageId.Request) batch.Add(m.Block);
                }
                catch (OperationCanceledException) when (!ct.IsCancellationRequested)
                {
                    break;
                }
            }
            if (batch.Count == 0) continue;
            rounds++;
            maxPiecesInFlight = Math.Max(maxPiecesInFlight, batch.Select(b => b.PieceIndex).Distinct().Count());
            foreach (var b in batch)
                await peer.SendAsync(PeerMessage.Piece(b.PieceIndex, b.Begin, data.AsMemory(b.PieceIndex * pieceLength + b.Begin, b.Length)), ct);
        }

        Assert.Equal(TorrentState.Seeding, t.Status.State);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(Root, "dl", "f.bin"), ct));
        Assert.True(maxPiecesInFlight <= 2, $"{maxPiecesInFlight} pieces were in flight at once");
        Assert.True(rounds >= pieces / 2, $"only {rounds} rounds");
    }
}
