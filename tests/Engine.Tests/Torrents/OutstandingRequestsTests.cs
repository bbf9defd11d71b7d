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
}
