using System.Net;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>A block is accepted only from the peer it was requested from: no one else can spoil a piece an honest peer serves.</summary>
public sealed class UnrequestedBlockTests() : TempFolderTest("te-unrequested-")
{
    private static readonly IPEndPoint HonestAddress = new(IPAddress.Parse("192.0.2.10"), 6881);
    private static readonly IPEndPoint AttackerAddress = new(IPAddress.Parse("192.0.2.66"), 6881);

    [Fact]
    public async Task BlockReceived_AttackerFloodsGarbageForBlocksAnHonestPeerServes_CompletesHonestNeverStruckAttackerDropped()
    {
        var ct = TestContext.Current.CancellationToken;
        const int pieceLength = 32 * 1024; // two blocks: the garbage lands between them
        var (meta, data) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "seed", "f.bin"), 4 * pieceLength, 15, ct, pieceLength);
        await using var engine = EngineTestKit.NewEngine();
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "dl") }, ct);
        await EngineTestKit.WaitForAsync(t, s => s.State == TorrentState.Downloading, ct);

        // The attacker claims every piece but keeps choking us, so it is never asked for anything.
        await using var attacker = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct, AttackerAddress);
        await attacker.SendAsync(PeerMessage.Bitfield(new byte[] { 0xF0 }), ct);
        await using var honest = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct, HonestAddress);
        await honest.SendAsync(PeerMessage.Bitfield(new byte[] { 0xF0 }), ct);
        await honest.SendAsync(PeerMessage.Unchoke, ct);

        var garbage = new byte[BlockRequest.StandardBlockLength];
        new Random(16).NextBytes(garbage);
        var attackerSent = 0;
        using var serving = CancellationTokenSource.CreateLinkedTokenSource(ct);
        serving.CancelAfter(TimeSpan.FromSeconds(20));
        // The honest peer answers every request with the right bytes. Right after each block it sends, the attacker sends
        // garbage for that same block, and the honest peer waits a moment before its next block, so the garbage lands
        // after the honest copy and before the piece is complete and hashed.
        var server = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var m = await honest.ReadAsync(serving.Token);
                    if (m.Id != MessageId.Request) continue;
                    var b = m.Block;
                    var at = b.PieceIndex * pieceLength + b.Begin;
                    await honest.SendAsync(PeerMessage.Piece(b.PieceIndex, b.Begin, data.AsMemory(at, b.Length)), serving.Token);
                    try
                    {
                        await attacker.SendAsync(PeerMessage.Piece(b.PieceIndex, b.Begin, garbage.AsMemory(0, b.Length)), serving.Token);
                        attackerSent++;
                    }
                    catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
                    {
                        // Dropped by the engine: nothing more to flood with.
                    }
                    await Task.Delay(30, serving.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or EndOfStreamException)
            {
                // Done serving, or the engine hung up.
            }
        }, ct);

        await EngineTestKit.WaitForAsync(t, s => s.State == TorrentState.Seeding || s.HashFailures > 0, ct, TimeSpan.FromSeconds(20));
        var status = t.Status;
        await serving.CancelAsync();
        await server;

        Assert.True(attackerSent > 0, "the attacker sent nothing");
        Assert.True(status.State == TorrentState.Seeding, $"the download did not complete: {status}");
        Assert.Equal(0, status.HashFailures);
        Assert.Equal(data, await File.ReadAllBytesAsync(Path.Combine(Root, "dl", "f.bin"), ct));
        var events = EngineTestKit.DrainEvents(engine);
        Assert.DoesNotContain(events, e => e is PieceHashFailedEvent or PeerBannedEvent);
        // The attacker is counted against (a protocol error and a strike) and dropped; the honest peer stays.
        Assert.True(status.ProtocolErrors >= 1, status.ToString());
        Assert.True(await attacker.ClosedWithinAsync(TimeSpan.FromSeconds(5), ct), "the attacker is still connected");
        Assert.False(await honest.ClosedWithinAsync(TimeSpan.FromMilliseconds(300), ct), "the honest peer was dropped");
    }
}
