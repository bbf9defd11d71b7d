using System.Diagnostics;
using TorrentEdge.Engine.PiecePicking;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Tests.PiecePicking;

public class PiecePickerTests
{
    private const int Block = BlockRequest.StandardBlockLength;
    private static readonly PiecePickerSettings InOrder = new() { RandomFirstPieces = 0, RarestFirst = false };

    private static PiecePicker Picker(int pieces, int pieceLength = 4 * Block, PiecePickerSettings? settings = null, long? totalLength = null) =>
        new(totalLength ?? (long)pieces * pieceLength, pieceLength, settings ?? InOrder, random: new Random(1));

    private static BlockRequest[] Pick(PiecePicker picker, TestPeer peer, int count)
    {
        var buffer = new BlockRequest[count];
        var n = picker.PickBlocks(peer, buffer);
        return buffer[..n];
    }

    private static BlockOutcome Receive(PiecePicker picker, TestPeer peer, BlockRequest block) =>
        picker.BlockReceived(peer, block, new PeerBlockRequest[4], out _);

    [Fact]
    public void Layout_LastPieceAndLastBlockShorter()
    {
        var picker = new PiecePicker(2 * 40000L + 5000, 40000, InOrder);
        Assert.Equal(3, picker.PieceCount);
        Assert.Equal(3, picker.GetBlockCount(0));
        Assert.Equal(40000 - 2 * Block, picker.GetBlockLength(0, 2));
        Assert.Equal(5000, picker.GetPieceLength(2));
        Assert.Equal(1, picker.GetBlockCount(2));

        var blocks = Pick(picker, TestPeer.Seed(3), 10);
        Assert.Equal(
            [new(0, 0, Block), new(0, Block, Block), new(0, 2 * Block, 40000 - 2 * Block), new(1, 0, Block), new(1, Block, Block), new(1, 2 * Block, 40000 - 2 * Block), new(2, 0, 5000)],
            blocks);
    }

    [Fact]
    public void PickBlocks_PeerLacksPieces_GetsOnlyWhatItHas()
    {
        var picker = Picker(10);
        var peer = new TestPeer(10).With(7);
        var blocks = Pick(picker, peer, 10);
        Assert.Equal(4, blocks.Length);
        Assert.All(blocks, b => Assert.Equal(7, b.PieceIndex));
        Assert.Empty(Pick(picker, new TestPeer(10), 10));
    }

    [Fact]
    public void PickBlocks_SecondPeer_StartsItsOwnPieceRatherThanSharingOne()
    {
        var picker = Picker(10);
        var a = TestPeer.Seed(10, "a");
        var b = TestPeer.Seed(10, "b");
        Assert.Equal([new(0, 0, Block), new(0, Block, Block)], Pick(picker, a, 2));
        Assert.Equal([new(1, 0, Block), new(1, Block, Block), new(1, 2 * Block, Block)], Pick(picker, b, 3));
        // Each continues its own piece.
        Assert.Equal([new(0, 2 * Block, Block)], Pick(picker, a, 1));
        Assert.Equal([new(1, 3 * Block, Block)], Pick(picker, b, 1));
        Assert.Equal(2, picker.ActivePieceCount);
    }

    [Fact]
    public void PickBlocks_NothingNewToStart_TakesFreeBlocksOfAnotherPeersPiece()
    {
        var picker = Picker(1, settings: InOrder with { MaxDuplicateRequests = 0 });
        var a = TestPeer.Seed(1, "a");
        var b = TestPeer.Seed(1, "b");
        Assert.Equal([new(0, 0, Block)], Pick(picker, a, 1));
        Assert.Equal([new(0, Block, Block), new(0, 2 * Block, Block), new(0, 3 * Block, Block)], Pick(picker, b, 4));
        Assert.Empty(Pick(picker, a, 4));
    }

    [Fact]
    public void PickBlocks_OwnerGoneOrSnubbed_OthersContinueItsPieceBeforeStartingNew()
    {
        var picker = Picker(10);
        var a = TestPeer.Seed(10, "a");
        var b = TestPeer.Seed(10, "b");
        var c = TestPeer.Seed(10, "c");
        Pick(picker, a, 1); // piece 0
        Pick(picker, b, 1); // piece 1
        b.IsSnubbed = true;
        Assert.Equal([new(1, Block, Block)], Pick(picker, c, 1));
        picker.PeerGone(a);
        Assert.Equal([new(0, 0, Block), new(0, Block, Block)], Pick(picker, c, 5).Where(x => x.PieceIndex == 0).Take(2).ToArray());
        Assert.Equal(2, picker.ActivePieceCount);
    }

    [Fact]
    public void PickBlocks_ChokedPeer_OnlyAllowedFastPieces()
    {
        var picker = Picker(10);
        var peer = TestPeer.Seed(10);
        peer.IsChokingUs = true;
        Assert.Empty(Pick(picker, peer, 10));

        peer.AllowedFastPieces = [5, 42, -1];
        var blocks = Pick(picker, peer, 10);
        Assert.Equal(4, blocks.Length);
        Assert.All(blocks, b => Assert.Equal(5, b.PieceIndex));
    }

    [Fact]
    public void PickBlocks_SnubbedPeer_OneBlockPerCall()
    {
        var picker = Picker(10);
        var peer = TestPeer.Seed(10);
        peer.IsSnubbed = true;
        Assert.Single(Pick(picker, peer, 10));
    }

    [Fact]
    public void BlockReceived_AllBlocks_PieceCompleteThenVerifiedIsNeverPickedAgain()
    {
        var picker = Picker(2);
        var peer = TestPeer.Seed(2);
        var blocks = Pick(picker, peer, 4);
        Assert.Equal(BlockOutcome.Accepted, Receive(picker, peer, blocks[0]));
        Assert.Equal(BlockOutcome.Duplicate, Receive(picker, peer, blocks[0]));
        Assert.Equal(BlockOutcome.Accepted, Receive(picker, peer, blocks[2]));
        Assert.Equal(BlockOutcome.Accepted, Receive(picker, peer, blocks[1]));
        Assert.Equal(BlockOutcome.PieceComplete, Receive(picker, peer, blocks[3]));

        picker.PieceVerified(0);
        Assert.True(picker.Have[0]);
        Assert.Equal(1, picker.RemainingPieceCount);
        Assert.All(Pick(picker, peer, 10), b => Assert.Equal(1, b.PieceIndex));
        Assert.Equal(BlockOutcome.Unexpected, Receive(picker, peer, blocks[0]));
    }

    [Fact]
    public void PieceFailed_AllBlocksWantedAgain()
    {
        var picker = Picker(1);
        var peer = TestPeer.Seed(1);
        foreach (var block in Pick(picker, peer, 4)) Receive(picker, peer, block);
        Assert.Empty(Pick(picker, peer, 4));

        picker.PieceFailed(0);
        Assert.Equal(4, Pick(picker, peer, 10).Length);
    }

    [Fact]
    public void GetContributors_HashFailure_NamesEachDeliveringPeerOnce()
    {
        var picker = Picker(1, settings: InOrder with { MaxDuplicateRequests = 0 });
        var a = TestPeer.Seed(1, "a");
        var b = TestPeer.Seed(1, "b");
        var fromA = Pick(picker, a, 3);
        var fromB = Pick(picker, b, 3);
        foreach (var block in fromA) Receive(picker, a, block);
        Assert.Equal(BlockOutcome.PieceComplete, Receive(picker, b, fromB.Single()));

        var contributors = new IPieceRequester[4];
        Assert.Equal(2, picker.GetContributors(0, contributors));
        Assert.Equal([a, b], contributors[..2]);

        picker.PieceFailed(0);
        Assert.Equal(0, picker.GetContributors(0, contributors));
    }

    [Fact]
    public void BlockReceived_WrongOffsetOrLengthOrPiece_Unexpected()
    {
        var picker = Picker(2);
        var peer = TestPeer.Seed(2);
        Pick(picker, peer, 1);
        Assert.Equal(BlockOutcome.Unexpected, Receive(picker, peer, new BlockRequest(0, 100, Block)));
        Assert.Equal(BlockOutcome.Unexpected, Receive(picker, peer, new BlockRequest(0, 0, 100)));
        Assert.Equal(BlockOutcome.Unexpected, Receive(picker, peer, new BlockRequest(9, 0, Block)));
        Assert.Equal(BlockOutcome.Unexpected, Receive(picker, peer, new BlockRequest(0, 4 * Block, Block)));
    }

    [Fact]
    public void ReturnBlock_RejectedOrTimedOut_GoesToAnotherPeer()
    {
        var picker = Picker(1, settings: InOrder with { MaxDuplicateRequests = 0 });
        var a = TestPeer.Seed(1, "a");
        var b = TestPeer.Seed(1, "b");
        var blocks = Pick(picker, a, 4);
        Assert.Empty(Pick(picker, new TestPeer(1), 4));

        picker.ReturnBlock(a, blocks[2]);
        Assert.Equal([blocks[2]], Pick(picker, b, 4).Where(x => x == blocks[2]).ToArray());
        Assert.Equal(3, picker.CountRequestedFrom(a));
        Assert.Equal(1, picker.CountRequestedFrom(b));
    }

    [Fact]
    public void ReturnBlock_LastOutstandingOfUntouchedPiece_PieceCanBeChosenAfresh()
    {
        var picker = Picker(3);
        var peer = TestPeer.Seed(3);
        var blocks = Pick(picker, peer, 1);
        Assert.Equal(1, picker.ActivePieceCount);
        picker.ReturnBlock(peer, blocks[0]);
        Assert.Equal(0, picker.ActivePieceCount);
    }

    [Fact]
    public void BlockReceived_LateBlockAfterItsPieceWasLetGo_StillAccepted()
    {
        var picker = Picker(2);
        var peer = TestPeer.Seed(2);
        var block = Pick(picker, peer, 1).Single();
        picker.ReturnBlock(peer, block); // timed out; the piece had nothing else, so it is released
        Assert.Equal(0, picker.ActivePieceCount);

        Assert.Equal(BlockOutcome.Accepted, Receive(picker, peer, block));
        Assert.Equal(1, picker.ActivePieceCount);
        Assert.DoesNotContain(block, Pick(picker, peer, 10));
    }

    [Fact]
    public void PeerGone_ReturnsAllItsBlocks()
    {
        var picker = Picker(3);
        var a = TestPeer.Seed(3, "a");
        var b = TestPeer.Seed(3, "b");
        var fromA = Pick(picker, a, 6);
        Receive(picker, a, fromA[0]);
        picker.PeerGone(a);

        Assert.Equal(0, picker.CountRequestedFrom(a));
        var fromB = Pick(picker, b, 20);
        Assert.Equal(11, fromB.Length); // 12 blocks, 1 received
        Assert.DoesNotContain(fromA[0], fromB);
    }

    [Fact]
    public void Endgame_AllBlocksRequested_DuplicatesWithinBudgetAndCancelsOnArrival()
    {
        var picker = Picker(1, settings: InOrder with { MaxDuplicateRequests = 1 });
        var a = TestPeer.Seed(1, "a");
        var b = TestPeer.Seed(1, "b");
        var c = TestPeer.Seed(1, "c");
        var fromA = Pick(picker, a, 4);
        Assert.True(picker.IsEndgame);

        var fromB = Pick(picker, b, 10);
        Assert.Equal(fromA, fromB);
        Assert.Empty(Pick(picker, c, 10)); // budget: one extra requester per block
        Assert.Empty(Pick(picker, a, 10)); // never twice to the same peer

        var cancels = new PeerBlockRequest[4];
        Assert.Equal(BlockOutcome.Accepted, picker.BlockReceived(b, fromA[1], cancels, out var count));
        Assert.Equal(1, count);
        Assert.Same(a, cancels[0].Peer);
        Assert.Equal(fromA[1], cancels[0].Block);
        Assert.Equal(BlockOutcome.Duplicate, picker.BlockReceived(a, fromA[1], cancels, out count));
        Assert.Equal(0, count);
    }

    [Fact]
    public void Endgame_Disabled_NoDuplicates()
    {
        var picker = Picker(1, settings: InOrder with { MaxDuplicateRequests = 0 });
        Pick(picker, TestPeer.Seed(1, "a"), 4);
        Assert.False(picker.IsEndgame);
        Assert.Empty(Pick(picker, TestPeer.Seed(1, "b"), 4));
    }

    [Fact]
    public void Endgame_NotWhileUnstartedPiecesRemain()
    {
        var picker = Picker(2);
        var a = new TestPeer(2, "a").With(0);
        Pick(picker, a, 4);
        Assert.False(picker.IsEndgame);
        Assert.Empty(Pick(picker, new TestPeer(2, "b").With(0), 4));
    }

    [Fact]
    public void SetPriorities_SkippedPiecesNeverPickedAndNotInteresting()
    {
        var picker = Picker(4);
        picker.SetPriorities([PiecePriority.Skip, PiecePriority.Normal, PiecePriority.Skip, PiecePriority.High]);
        var onlySkipped = new TestPeer(4).With(0, 2);
        Assert.False(picker.IsInteresting(onlySkipped));
        Assert.Empty(Pick(picker, onlySkipped, 10));

        var seed = TestPeer.Seed(4);
        Assert.True(picker.IsInteresting(seed));
        var blocks = Pick(picker, seed, 100);
        Assert.Equal([3, 1], blocks.Select(b => b.PieceIndex).Distinct().ToArray());
        Assert.Equal(2, picker.RemainingPieceCount);
    }

    [Fact]
    public void Sequential_PicksPiecesInOrderFromPosition()
    {
        var picker = Picker(10, pieceLength: Block, settings: new PiecePickerSettings { Sequential = true });
        picker.SequentialPosition = 6;
        var peer = TestPeer.Seed(10);
        Assert.Equal([6, 7, 8, 9, 0, 1], Pick(picker, peer, 6).Select(b => b.PieceIndex).ToArray());
    }

    [Fact]
    public void RarestFirst_StartsTheRarestPieceThePeerHas()
    {
        var picker = Picker(10, pieceLength: Block, settings: new PiecePickerSettings { RandomFirstPieces = 0 });
        var common = TestPeer.Seed(10);
        picker.Availability.AddPeer(common.Pieces);
        picker.Availability.AddPeer(new TestPeer(10).With(0, 1, 2, 3, 4, 5, 6, 8, 9).Pieces);
        Assert.Equal(7, Pick(picker, common, 1).Single().PieceIndex);
    }

    [Fact]
    public void PickBlocks_SteadyState_AllocatesNothing()
    {
        var picker = Picker(1000, settings: PiecePickerSettings.Default);
        var peer = TestPeer.Seed(1000);
        picker.Availability.AddSeed();
        var buffer = new BlockRequest[64];
        Cycle(); // warm up (pool, lists)

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++) Cycle();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        Assert.Equal(64, picker.PickBlocks(peer, buffer));

        void Cycle()
        {
            picker.PickBlocks(peer, buffer);
            picker.PeerGone(peer);
        }
    }

    [Fact]
    public void HundredThousandPieces_DownloadEveryPieceFromManyPeers_Quick()
    {
        const int pieces = 100_000;
        var picker = Picker(pieces, pieceLength: 2 * Block, settings: PiecePickerSettings.Default);
        var random = new Random(3);
        var peers = Enumerable.Range(0, 20).Select(i =>
        {
            var peer = new TestPeer(pieces, $"p{i}");
            for (var p = 0; p < pieces; p++) if (random.Next(4) != 0) peer.Pieces[p] = true;
            picker.Availability.AddPeer(peer.Pieces);
            return peer;
        }).ToList();
        var seed = TestPeer.Seed(pieces);
        picker.Availability.AddSeed();
        peers.Add(seed);

        var sw = Stopwatch.StartNew();
        var buffer = new BlockRequest[32];
        var received = 0;
        while (picker.RemainingPieceCount > 0)
        {
            var progressed = false;
            foreach (var peer in peers)
            {
                var n = picker.PickBlocks(peer, buffer);
                for (var i = 0; i < n; i++)
                {
                    var outcome = picker.BlockReceived(peer, buffer[i], [], out _);
                    if (outcome == BlockOutcome.PieceComplete) picker.PieceVerified(buffer[i].PieceIndex);
                    if (outcome is BlockOutcome.Accepted or BlockOutcome.PieceComplete) received++;
                    progressed = true;
                }
            }
            Assert.True(progressed, "no peer could pick anything");
        }
        Assert.Equal(2 * pieces, received);
        Assert.True(picker.Have.AllTrue);
        // About a second on an idle machine; the bound only catches quadratic behaviour (walking finished pieces took over 100 s).
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(60), $"took {sw.Elapsed}");
    }
}
