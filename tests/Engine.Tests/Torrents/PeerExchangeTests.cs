using System.Net;
using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>The PEX component alone, on a fake clock: one message a minute, 50 per list, dropped peers, incoming limit.</summary>
public sealed class PeerExchangeTests
{
    private sealed class Peer;

    private static (PeerExchange<Peer> Pex, FakeTimeProvider Time) Create()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero));
        return (new PeerExchange<Peer>(time), time);
    }

    private static PexPeer P(int i) => new(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 1000 + i), PexFlags.Reachable);

    private static List<PexPeer> Peers(int from, int count) => [.. Enumerable.Range(from, count).Select(P)];

    [Fact]
    public void NextMessage_FirstTime_SendsEveryConnectedPeerButTheRecipient()
    {
        var (pex, _) = Create();
        var recipient = P(1).EndPoint;

        var message = pex.NextMessage(new Peer(), recipient, Peers(1, 3));

        Assert.NotNull(message);
        Assert.Equal([P(2), P(3)], message.Added);
        Assert.Empty(message.Dropped);
    }

    [Fact]
    public void NextMessage_WithinAMinute_SendsNothingThenSendsTheChangeAfterIt()
    {
        var (pex, time) = Create();
        var peer = new Peer();
        Assert.NotNull(pex.NextMessage(peer, null, Peers(1, 2)));

        var changed = Peers(2, 2); // 1 left, 3 arrived
        time.Advance(TimeSpan.FromSeconds(59));
        Assert.Null(pex.NextMessage(peer, null, changed));

        time.Advance(TimeSpan.FromSeconds(1));
        var message = pex.NextMessage(peer, null, changed);

        Assert.NotNull(message);
        Assert.Equal([P(3)], message.Added);
        Assert.Equal([P(1).EndPoint], message.Dropped);
    }

    [Fact]
    public void NextMessage_NothingChanged_SendsNothingAndKeepsTheMinuteOpen()
    {
        var (pex, time) = Create();
        var peer = new Peer();
        Assert.NotNull(pex.NextMessage(peer, null, Peers(1, 2)));
        time.Advance(TimeSpan.FromMinutes(1));

        Assert.Null(pex.NextMessage(peer, null, Peers(1, 2)));
        // Nothing was sent, so a change a second later goes out at once rather than a minute later.
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.NotNull(pex.NextMessage(peer, null, Peers(1, 3)));
    }

    [Fact]
    public void NextMessage_MoreThanFiftyPeers_SendsFiftyAndTheRestAMinuteLater()
    {
        var (pex, time) = Create();
        var peer = new Peer();
        var connected = Peers(1, 120);

        var first = pex.NextMessage(peer, null, connected)!;
        time.Advance(TimeSpan.FromMinutes(1));
        var second = pex.NextMessage(peer, null, connected)!;
        time.Advance(TimeSpan.FromMinutes(1));
        var third = pex.NextMessage(peer, null, connected)!;

        Assert.Equal(50, first.Added.Count);
        Assert.Equal(50, second.Added.Count);
        Assert.Equal(20, third.Added.Count);
        Assert.Equal(120, first.Added.Concat(second.Added).Concat(third.Added).Select(p => p.EndPoint).Distinct().Count());
        // Each one fits on the wire (the codec refuses more than 50).
        Assert.True(PexMessage.TryParse(first.Encode(), out _));
    }

    [Fact]
    public void NextMessage_SeventyDropped_DropsFiftyThenTwenty()
    {
        var (pex, time) = Create();
        var peer = new Peer();
        for (var i = 0; i < 2; i++)
        {
            pex.NextMessage(peer, null, Peers(1, 70));
            time.Advance(TimeSpan.FromMinutes(1));
        }

        var first = pex.NextMessage(peer, null, [])!;
        time.Advance(TimeSpan.FromMinutes(1));
        var second = pex.NextMessage(peer, null, [])!;

        Assert.Equal(50, first.Dropped.Count);
        Assert.Equal(20, second.Dropped.Count);
        Assert.Empty(first.Added);
    }

    [Fact]
    public void MayReceive_SecondMessageWithinFiftySeconds_IsIgnored()
    {
        var (pex, time) = Create();
        var peer = new Peer();

        Assert.True(pex.MayReceive(peer));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.False(pex.MayReceive(peer));
        time.Advance(TimeSpan.FromSeconds(40));
        Assert.True(pex.MayReceive(peer));
        Assert.True(pex.MayReceive(new Peer()));
        Assert.Equal(1, pex.IgnoredTooSoon);
    }

    [Fact]
    public void Forget_ClosedPeer_DropsItsState()
    {
        var (pex, _) = Create();
        var peer = new Peer();
        pex.NextMessage(peer, null, Peers(1, 2));
        Assert.Equal(1, pex.Tracked);

        pex.Forget(peer);

        Assert.Equal(0, pex.Tracked);
        // A new connection from it starts over: it hears the full list again.
        Assert.Equal(2, pex.NextMessage(peer, null, Peers(1, 2))!.Added.Count);
    }
}
