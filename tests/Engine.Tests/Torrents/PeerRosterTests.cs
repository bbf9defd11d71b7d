using System.Net;
using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>The peer roster alone, on a fake clock: bans, their expiry, and the back-off of failed dials.</summary>
public sealed class PeerRosterTests
{
    private sealed class Peer(IPEndPoint endPoint, PeerId? id = null, bool incoming = false) : IRosterPeer
    {
        public IPEndPoint? EndPoint { get; } = endPoint;
        public PeerId PeerId { get; } = id ?? PeerId.Generate("-XX0001-");
        public bool IsIncoming { get; } = incoming;
    }

    private static readonly IPAddress Host = IPAddress.Parse("192.0.2.44");

    private static (PeerRoster<Peer> Roster, FakeTimeProvider Time) Roster(EngineOptions? options = null, int seed = 1)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero));
        return (new PeerRoster<Peer>(options ?? new EngineOptions(), time, new Random(seed)), time);
    }

    [Fact]
    public void Strike_ThirdStrike_BansAddressAndIdUntilThirtyMinutesPass()
    {
        var (roster, time) = Roster();
        var offender = new Peer(new IPEndPoint(Host, 7001));
        Assert.False(roster.Strike(offender.EndPoint!, offender.PeerId, out _));
        Assert.False(roster.Strike(offender.EndPoint!, offender.PeerId, out _));
        Assert.True(roster.Strike(offender.EndPoint!, offender.PeerId, out var strikes));
        Assert.Equal(3, strikes);

        // By address: another port of the same host is banned too, and so is the peer id from anywhere.
        var otherPort = new IPEndPoint(Host, 7999);
        Assert.True(roster.IsBanned(otherPort));
        Assert.True(roster.IsBanned(offender.PeerId));
        Assert.False(roster.MayOpen(otherPort));

        time.Advance(PeerRoster<Peer>.BanTime - TimeSpan.FromSeconds(1));
        Assert.True(roster.IsBanned(otherPort));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.False(roster.IsBanned(otherPort));
        Assert.False(roster.IsBanned(offender.PeerId));
        Assert.True(roster.MayOpen(otherPort));
    }

    [Fact]
    public void Strike_BanByAddressOff_OnlyThatPortIsBanned()
    {
        var (roster, _) = Roster(new EngineOptions { BanByAddress = false });
        var offender = new Peer(new IPEndPoint(Host, 7001));
        for (var i = 0; i < 3; i++) roster.Strike(offender.EndPoint!, offender.PeerId, out _);
        Assert.True(roster.IsBanned(offender.EndPoint));
        Assert.False(roster.IsBanned(new IPEndPoint(Host, 7002)));
    }

    [Fact]
    public void Closed_DialsKeepFailing_BackOffDoublesWithJitterUpToFiveMinutes()
    {
        var (roster, time) = Roster();
        var at = new IPEndPoint(Host, 6881);
        Assert.True(roster.AddCandidate(at, self: null));
        var expected = PeerRoster<Peer>.FirstBackoff.TotalMilliseconds;
        for (var failures = 1; failures <= 10; failures++)
        {
            var c = Assert.Single(roster.Dialable());
            var session = new Peer(at);
            roster.Dialling(c, session);
            Assert.Empty(roster.Dialable());
            var start = time.GetUtcNow();
            roster.Closed(session, registered: false);
            Assert.Equal(failures, c.Failures);

            // Not due before three quarters of the back-off, due after five quarters of it, stepping the clock only.
            var nominal = Math.Min(PeerRoster<Peer>.MaxBackoff.TotalMilliseconds, expected * (1L << failures) / 1);
            time.Advance(TimeSpan.FromMilliseconds(nominal * 0.75 - 1));
            Assert.Empty(roster.Dialable());
            time.Advance(TimeSpan.FromMilliseconds(nominal * 0.5 + 2));
            Assert.Single(roster.Dialable());
            Assert.True(time.GetUtcNow() - start <= TimeSpan.FromMinutes(5) * 1.25 + TimeSpan.FromSeconds(1));
        }
    }

    [Fact]
    public void Backoff_SameFailures_JitteredAcrossDraws()
    {
        var (roster, _) = Roster(seed: 7);
        var draws = Enumerable.Range(0, 20).Select(_ => roster.Backoff(3)).ToList();
        var nominal = PeerRoster<Peer>.FirstBackoff * 8;
        Assert.All(draws, d => Assert.InRange(d, nominal * 0.75, nominal * 1.25));
        // Many peers failing together are not retried in step.
        Assert.True(draws.Distinct().Count() > 15);
        Assert.True(draws.Max() - draws.Min() > nominal * 0.2);
    }

    [Fact]
    public void TryRegister_BannedIdFromANewAddress_Refused()
    {
        var (roster, _) = Roster();
        var offender = new Peer(new IPEndPoint(Host, 7001));
        for (var i = 0; i < 3; i++) roster.Strike(offender.EndPoint!, offender.PeerId, out _);
        var sameIdElsewhere = new Peer(new IPEndPoint(IPAddress.Parse("198.51.100.9"), 6881), offender.PeerId);
        Assert.False(roster.TryRegister(sameIdElsewhere));
        Assert.Empty(roster.Connected);
    }

    // Two peers that dial each other at once must keep the same one of the two connections, whichever arrives first.
    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void TryRegister_CrossedConnections_BothSidesKeepTheOneTheGreaterIdDialled(bool ourIdGreater, bool outgoingFirst)
    {
        var low = PeerId.FromBytes(Enumerable.Repeat((byte)'a', 20).ToArray());
        var high = PeerId.FromBytes(Enumerable.Repeat((byte)'z', 20).ToArray());
        var (us, them) = ourIdGreater ? (high, low) : (low, high);
        var (roster, _) = Roster();
        var outgoing = new Peer(new IPEndPoint(Host, 7001), them, incoming: false);
        var incoming = new Peer(new IPEndPoint(Host, 50123), them, incoming: true);
        var (first, second) = outgoingFirst ? (outgoing, incoming) : (incoming, outgoing);

        Assert.True(roster.TryRegister(first, us, out var none));
        Assert.Null(none);
        var secondKept = roster.TryRegister(second, us, out var replaced);

        var winner = ourIdGreater ? outgoing : incoming;
        Assert.Equal([winner], roster.Connected);
        Assert.Equal(secondKept, ReferenceEquals(second, winner));
        Assert.Same(secondKept ? first : null, replaced);
        // The loser's close later must not free the winner's id: a third connection of that peer is still a duplicate.
        roster.Closed(replaced ?? second, registered: false);
        Assert.False(roster.TryRegister(new Peer(new IPEndPoint(Host, 7001), them, incoming: true), null, out _));
    }

    [Fact]
    public void TryRegister_SamePeerDialsUsAgainFromItsAddress_NewOneReplacesTheOld()
    {
        var (roster, _) = Roster();
        var id = PeerId.Generate("-XX0001-");
        var first = new Peer(new IPEndPoint(Host, 50001), id, incoming: true);
        var again = new Peer(new IPEndPoint(Host, 50002), id, incoming: true);
        Assert.True(roster.TryRegister(first, PeerId.Generate(), out _));
        Assert.True(roster.TryRegister(again, PeerId.Generate(), out var replaced));
        Assert.Same(first, replaced);
        Assert.Equal([again], roster.Connected);
    }

    [Fact]
    public void TryRegister_SameIdFromAnotherAddress_FirstKept()
    {
        var (roster, _) = Roster();
        var id = PeerId.Generate("-XX0001-");
        var first = new Peer(new IPEndPoint(Host, 50001), id, incoming: true);
        Assert.True(roster.TryRegister(first, PeerId.Generate(), out _));
        Assert.False(roster.TryRegister(new Peer(new IPEndPoint(IPAddress.Parse("198.51.100.9"), 50002), id, incoming: true), PeerId.Generate(), out var replaced));
        Assert.Null(replaced);
        Assert.Equal([first], roster.Connected);
    }

    [Fact]
    public void AddCandidate_OurOwnListeningEndPoint_Ignored()
    {
        var (roster, _) = Roster();
        var self = new IPEndPoint(IPAddress.Parse("203.0.113.5"), 6881);
        Assert.False(roster.AddCandidate(self, self));
        Assert.False(roster.AddCandidate(new IPEndPoint(IPAddress.Loopback, 6881), self));
        Assert.False(roster.AddCandidate(new IPEndPoint(Host, 0), self));
        Assert.True(roster.AddCandidate(new IPEndPoint(Host, 6881), self));
    }
}
