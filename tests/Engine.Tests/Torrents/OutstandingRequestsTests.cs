using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

public class OutstandingRequestsTests
{
    private static BlockRequest Block(int i) => new(i / 4, i % 4 * BlockRequest.StandardBlockLength, BlockRequest.StandardBlockLength);

    [Fact]
    public void Remove_InAndOutOfOrder_ReturnsSendTimeAndCountsDown()
    {
        var outstanding = new OutstandingRequests();
        for (var i = 0; i < 5; i++) outstanding.Add(Block(i), 100 + i);

        Assert.True(outstanding.Remove(Block(0), out var sent0));
        Assert.Equal(100, sent0);
        Assert.True(outstanding.Remove(Block(3), out var sent3));
        Assert.Equal(103, sent3);
        Assert.False(outstanding.Remove(Block(3), out _));
        Assert.False(outstanding.Remove(Block(9), out _));
        Assert.Equal(3, outstanding.Count);

        var rest = new BlockRequest[8];
        Assert.Equal(3, outstanding.Drain(rest));
        Assert.Equal([Block(1), Block(2), Block(4)], rest[..3]);
        Assert.Equal(0, outstanding.Count);
    }

    [Fact]
    public void Add_ManyWithHolesLeftByOutOfOrderAnswers_KeepsEveryLiveRequest()
    {
        var outstanding = new OutstandingRequests();
        var live = new HashSet<BlockRequest>();
        var next = 0;
        // A pipeline of 300 where every other answer comes out of order, for many rounds: holes must be reclaimed.
        for (var round = 0; round < 50; round++)
        {
            while (live.Count < 300)
            {
                outstanding.Add(Block(next), next);
                live.Add(Block(next++));
            }
            foreach (var b in live.Where((_, k) => k % 2 == 1).Take(100).ToArray())
            {
                Assert.True(outstanding.Remove(b, out _));
                live.Remove(b);
            }
        }

        Assert.Equal(live.Count, outstanding.Count);
        var drained = new BlockRequest[outstanding.Count];
        outstanding.Drain(drained);
        Assert.Equal(live.OrderBy(b => b.PieceIndex).ThenBy(b => b.Begin), drained);
    }

    [Fact]
    public void Admit_OutstandingCancelledAndNeverRequested_RequestedLateOnceThenUnrequested()
    {
        var outstanding = new OutstandingRequests();
        for (var i = 0; i < 3; i++) outstanding.Add(Block(i), i);

        Assert.Equal(BlockAdmission.Requested, outstanding.Admit(Block(0)));
        Assert.Equal(BlockAdmission.Unrequested, outstanding.Admit(Block(7)));
        // A cancelled request's block may be on the wire already: one such block is forgiven, not two.
        Assert.True(outstanding.Cancel(Block(1)));
        Assert.Equal(BlockAdmission.Late, outstanding.Admit(Block(1)));
        Assert.Equal(BlockAdmission.Unrequested, outstanding.Admit(Block(1)));
        // Forgetting the rest (the peer choked us) forgives as many blocks as were outstanding.
        outstanding.Clear();
        Assert.Equal(BlockAdmission.Late, outstanding.Admit(Block(0)));
        Assert.Equal(BlockAdmission.Late, outstanding.Admit(Block(2)));
        Assert.Equal(BlockAdmission.Unrequested, outstanding.Admit(Block(2)));
    }

    [Fact]
    public void Admit_AheadOfTheLoopAndOutOfOrder_FindsEveryOutstandingBlock()
    {
        var outstanding = new OutstandingRequests();
        for (var i = 0; i < 10; i++) outstanding.Add(Block(i), i);

        // The receive task admits blocks the loop has not removed yet, then one from behind them, then one again.
        foreach (var i in new[] { 0, 1, 2, 6, 3, 9, 6 })
            Assert.Equal(BlockAdmission.Requested, outstanding.Admit(Block(i)));
        Assert.True(outstanding.Remove(Block(0), out _));
        Assert.True(outstanding.Remove(Block(6), out _));
        Assert.Equal(BlockAdmission.Requested, outstanding.Admit(Block(4)));
        Assert.Equal(BlockAdmission.Unrequested, outstanding.Admit(Block(6)));
        Assert.Equal(BlockAdmission.Unrequested, outstanding.Admit(Block(10)));
        // After a grow compacts the ring, blocks before and after the old position are still found.
        for (var i = 10; i < 200; i++) outstanding.Add(Block(i), i);
        Assert.Equal(BlockAdmission.Requested, outstanding.Admit(Block(1)));
        Assert.Equal(BlockAdmission.Requested, outstanding.Admit(Block(150)));
        Assert.Equal(BlockAdmission.Requested, outstanding.Admit(Block(5)));
    }

    [Fact]
    public void OwedBytes_CountsRequestsWhoseBlocksHaveNotArrived()
    {
        const int b = BlockRequest.StandardBlockLength;
        var outstanding = new OutstandingRequests();
        for (var i = 0; i < 6; i++) outstanding.Add(Block(i), i);
        Assert.Equal(6 * b, outstanding.OwedBytes);

        // Arrived (admitted twice, counted once), then removed by the loop: owed once less.
        outstanding.Admit(Block(0));
        outstanding.Admit(Block(0));
        Assert.Equal(5 * b, outstanding.OwedBytes);
        outstanding.Remove(Block(0), out _);
        Assert.Equal(5 * b, outstanding.OwedBytes);
        // Rejected or cancelled before arriving: no longer owed.
        outstanding.Remove(Block(2), out _);
        outstanding.Cancel(Block(3));
        Assert.Equal(3 * b, outstanding.OwedBytes);
        // A grow keeps what arrived.
        outstanding.Admit(Block(4));
        for (var i = 6; i < 100; i++) outstanding.Add(Block(i), i);
        Assert.Equal(96 * b, outstanding.OwedBytes);
        outstanding.Clear();
        Assert.Equal(0, outstanding.OwedBytes);
    }

    [Fact]
    public void TryCopy_SecondCopyOfABlock_RefusedFirstBytesKept()
    {
        var piece = new ActivePiece(0, 2 * BlockRequest.StandardBlockLength, BlockRequest.StandardBlockLength);
        var first = new byte[BlockRequest.StandardBlockLength];
        first.AsSpan().Fill(1);
        var second = new byte[BlockRequest.StandardBlockLength];
        second.AsSpan().Fill(2);

        Assert.True(piece.TryCopy(0, new System.Buffers.ReadOnlySequence<byte>(first)));
        Assert.False(piece.TryCopy(0, new System.Buffers.ReadOnlySequence<byte>(second)));

        Assert.True(piece.Buffer.Span[..BlockRequest.StandardBlockLength].SequenceEqual(first));
        piece.Seal();
        TorrentEdge.Engine.Storage.AlignedBufferPool.Shared.Return(piece.Buffer);
    }
}
