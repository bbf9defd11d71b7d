using System.Net;
using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Dht;

namespace TorrentEdge.Engine.Tests.Dht;

public sealed class RoutingTableTests
{
    private static readonly NodeId Own = new(new byte[20]);

    /// <summary>An id whose first byte is <paramref name="first"/> (the rest random), on its own address.</summary>
    private static DhtContact Contact(byte first, int address)
    {
        var bytes = NodeId.Random().ToArray();
        bytes[0] = first;
        return new DhtContact(new NodeId(bytes), new IPEndPoint(new IPAddress([10, 0, (byte)(address >> 8), (byte)address]), 6881));
    }

    [Fact]
    public void Seen_NinthNodeInFarBucket_GoesToReplacementsNotTable()
    {
        var table = new RoutingTable(Own, new FakeTimeProvider());
        // All in the far half (first bit set): the bucket that does not hold our id cannot split.
        for (var i = 0; i < 8; i++) Assert.True(table.Seen(Contact(0x80, i), responded: true));
        table.Seen(Contact(0x40, 100), responded: true); // forces the split of the root bucket
        Assert.False(table.Seen(Contact(0x80, 9), responded: true));
        Assert.Equal(8, table.Nodes.Count(n => n.Id.ToArray()[0] == 0x80));
    }

    [Fact]
    public void Seen_NodesNearOwnId_SplitTheBucketHoldingOwnId()
    {
        var table = new RoutingTable(Own, new FakeTimeProvider());
        for (var i = 0; i < 8; i++) table.Seen(Contact(0x80, i), responded: true);
        // Twelve nodes sharing 6 or 7 bits with us: more than one bucket holds, so the bucket with our id splits down.
        for (var i = 0; i < 12; i++) Assert.True(table.Seen(Contact((byte)(0x01 + i % 2), 50 + i), responded: true));
        Assert.Equal(20, table.Count);
        Assert.True(table.BucketCount >= 7);
    }

    [Fact]
    public void Seen_SecondIdOnSameAddress_IsRefused()
    {
        var table = new RoutingTable(Own, new FakeTimeProvider());
        var a = Contact(0x80, 1);
        Assert.True(table.Seen(a, responded: true));
        Assert.False(table.Seen(new DhtContact(NodeId.Random(), a.EndPoint), responded: true));
        Assert.False(table.Seen(new DhtContact(a.Id, new IPEndPoint(IPAddress.Parse("10.9.9.9"), 1)), responded: true));
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void StateOf_AfterFifteenMinutesSilence_IsQuestionable()
    {
        var time = new FakeTimeProvider();
        var table = new RoutingTable(Own, time);
        table.Seen(Contact(0x80, 1), responded: true);
        var node = table.Nodes.Single();
        Assert.Equal(NodeState.Good, table.StateOf(node));
        time.Advance(TimeSpan.FromMinutes(14));
        Assert.Equal(NodeState.Good, table.StateOf(node));
        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(NodeState.Questionable, table.StateOf(node));
        Assert.Contains(node, table.Questionable());
    }

    [Fact]
    public void StateOf_NodeThatOnlyQueriedUs_IsQuestionableUntilItAnswers()
    {
        var table = new RoutingTable(Own, new FakeTimeProvider());
        var c = Contact(0x80, 1);
        table.Seen(c, responded: false);
        Assert.Equal(NodeState.Questionable, table.StateOf(table.Find(c.Id)!));
        table.Seen(c, responded: true);
        Assert.Equal(NodeState.Good, table.StateOf(table.Find(c.Id)!));
    }

    [Fact]
    public void Failed_Twice_BadNodeIsReplacedFromCache()
    {
        var table = new RoutingTable(Own, new FakeTimeProvider());
        var first = Contact(0x80, 0);
        table.Seen(first, responded: true);
        for (var i = 1; i < 8; i++) table.Seen(Contact(0x80, i), responded: true);
        table.Seen(Contact(0x40, 100), responded: true);
        var waiting = Contact(0x80, 9);
        Assert.False(table.Seen(waiting, responded: true));

        table.Failed(first.Id);
        Assert.NotNull(table.Find(first.Id));
        table.Failed(first.Id);

        Assert.Null(table.Find(first.Id));
        Assert.NotNull(table.Find(waiting.Id));
    }

    [Fact]
    public void Seen_FullBucketWithBadNode_NewNodeTakesItsPlace()
    {
        var table = new RoutingTable(Own, new FakeTimeProvider());
        var first = Contact(0x80, 0);
        table.Seen(first, responded: true);
        for (var i = 1; i < 8; i++) table.Seen(Contact(0x80, i), responded: true);
        table.Seen(Contact(0x40, 100), responded: true);
        table.Failed(first.Id);
        table.Failed(first.Id); // bad, but no replacement waited
        Assert.NotNull(table.Find(first.Id));
        Assert.True(table.Seen(Contact(0x80, 20), responded: true));
        Assert.Null(table.Find(first.Id));
    }

    [Fact]
    public void Seen_VerifiedNodeInFullBucket_ReplacesUnverifiedQuestionableOne()
    {
        var time = new FakeTimeProvider();
        var table = new RoutingTable(Own, time);
        var unverified = Contact(0x80, 0);
        table.Seen(unverified, responded: false, verified: false);
        for (var i = 1; i < 8; i++) table.Seen(Contact(0x80, i), responded: true);
        table.Seen(Contact(0x40, 100), responded: true);
        Assert.False(table.Seen(Contact(0x80, 30), responded: true, verified: false));
        Assert.True(table.Seen(Contact(0x80, 31), responded: true, verified: true));
        Assert.Null(table.Find(unverified.Id));
    }

    [Fact]
    public void Closest_ReturnsNodesByXorDistance()
    {
        var table = new RoutingTable(Own, new FakeTimeProvider());
        var contacts = Enumerable.Range(0, 30).Select(i => new DhtContact(NodeId.Random(), new IPEndPoint(new IPAddress([10, 1, 0, (byte)i]), 1))).ToList();
        foreach (var c in contacts) table.Seen(c, responded: true);
        var target = NodeId.Random();
        var closest = table.Closest(target, 8);
        var inTable = table.Nodes.Select(n => n.Contact).OrderBy(c => c.Id.Xor(target)).Take(8).ToList();
        Assert.Equal(inTable, closest);
    }

    [Fact]
    public void RefreshTargets_BucketUnchangedFifteenMinutes_IsRefreshedOnceWithTargetInsideIt()
    {
        var time = new FakeTimeProvider();
        var table = new RoutingTable(Own, time);
        table.Seen(Contact(0x80, 1), responded: true);
        Assert.Empty(table.RefreshTargets());
        time.Advance(TimeSpan.FromMinutes(16));
        var targets = table.RefreshTargets();
        Assert.Single(targets);
        Assert.Empty(table.RefreshTargets());
    }

    [Fact]
    public void RandomWithPrefix_SharesExactlyThatManyBits()
    {
        var own = NodeId.Random();
        for (var p = 0; p < 160; p += 7) Assert.Equal(p, own.CommonPrefixLength(own.RandomWithPrefix(p)));
    }
}
