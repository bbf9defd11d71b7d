using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Choking;

namespace TorrentEdge.Engine.Tests.Choking;

public class ChokerTests
{
    private sealed class Peer(string name) : IChokePeer
    {
        public string Name { get; } = name;
        public bool IsInterested { get; set; } = true;
        public bool AmChoking { get; set; } = true;
        public long DownloadRate { get; set; }
        public long UploadRate { get; set; }
        public bool IsSeed { get; set; }
        public bool IsSnubbed { get; set; }
        public DateTimeOffset ConnectedAt { get; set; } = DateTimeOffset.UnixEpoch;
        public override string ToString() => Name;
    }

    private static FakeTimeProvider Time() => new(new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero));

    private static List<Peer> Peers(int count) =>
        Enumerable.Range(0, count).Select(i => new Peer("p" + i) { DownloadRate = i * 100, UploadRate = (count - i) * 100 }).ToList();

    [Fact]
    public void Rechoke_Leecher_UnchokesTopFourByDownloadRatePlusOptimistic()
    {
        var peers = Peers(8);
        var choker = new Choker(timeProvider: Time(), random: new Random(1));

        var decision = choker.Rechoke(peers, amSeed: false);

        Assert.Equal(["p7", "p6", "p5", "p4"], decision.Unchoke.Take(4).Select(p => p.Name));
        Assert.Equal(5, decision.Unchoke.Count);
        Assert.NotNull(decision.Optimistic);
        Assert.DoesNotContain(decision.Optimistic, decision.Unchoke.Take(4));
        Assert.Same(decision.Optimistic, choker.OptimisticPeer);
    }

    [Fact]
    public void Rechoke_Seed_UnchokesTopFourByUploadRate()
    {
        var peers = Peers(8);
        var choker = new Choker(timeProvider: Time(), random: new Random(1));

        var decision = choker.Rechoke(peers, amSeed: true);

        Assert.Equal(["p0", "p1", "p2", "p3"], decision.Unchoke.Take(4).Select(p => p.Name));
    }

    [Fact]
    public void Rechoke_UninterestedSeedsAndSnubbed_NotGivenRegularSlots()
    {
        var peers = Peers(8);
        peers[7].IsInterested = false;
        peers[6].IsSeed = true;
        peers[5].IsSnubbed = true;
        var choker = new Choker(new ChokerOptions { RegularSlots = 3 }, Time(), new Random(1));

        var decision = choker.Rechoke(peers, amSeed: false);

        Assert.Equal(["p4", "p3", "p2"], decision.Unchoke.Take(3).Select(p => p.Name));
        Assert.False(decision.ShouldUnchoke(peers[7]));
        Assert.False(decision.ShouldUnchoke(peers[6]));
    }

    [Fact]
    public void Rechoke_FewerInterestedThanSlots_UnchokesAllWithoutOptimistic()
    {
        var peers = Peers(3);
        var choker = new Choker(timeProvider: Time(), random: new Random(1));

        var decision = choker.Rechoke(peers, amSeed: false);

        Assert.Equal(3, decision.Unchoke.Count);
        Assert.Null(decision.Optimistic);
    }

    [Fact]
    public void Rechoke_WithinOptimisticInterval_KeepsOptimisticThenRotates()
    {
        var time = Time();
        var peers = Peers(30);
        var choker = new Choker(timeProvider: time, random: new Random(7));
        var first = choker.Rechoke(peers, amSeed: false).Optimistic;

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Same(first, choker.Rechoke(peers, amSeed: false).Optimistic);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.Same(first, choker.Rechoke(peers, amSeed: false).Optimistic);

        var changed = false;
        for (var i = 0; i < 5 && !changed; i++)
        {
            time.Advance(TimeSpan.FromSeconds(30));
            changed = !ReferenceEquals(first, choker.Rechoke(peers, amSeed: false).Optimistic);
        }
        Assert.True(changed);
    }

    [Fact]
    public void Rechoke_OptimisticPeerLeaves_PicksAnotherAtOnce()
    {
        var peers = Peers(10);
        var choker = new Choker(timeProvider: Time(), random: new Random(3));
        var first = choker.Rechoke(peers, amSeed: false).Optimistic!;

        peers.Remove(first);
        var next = choker.Rechoke(peers, amSeed: false).Optimistic;

        Assert.NotNull(next);
        Assert.NotSame(first, next);
    }

    [Fact]
    public void Rechoke_NewPeers_ThreeTimesLikelierOptimistic()
    {
        var time = Time();
        var now = time.GetUtcNow();
        var old = new Peer("old") { ConnectedAt = now - TimeSpan.FromMinutes(10) };
        var fresh = new Peer("new") { ConnectedAt = now };
        var top = Enumerable.Range(0, 4).Select(i => new Peer("top" + i) { DownloadRate = 1000 }).ToList();
        List<Peer> peers = [.. top, old, fresh];
        var choker = new Choker(new ChokerOptions { OptimisticInterval = TimeSpan.Zero, NewPeerWindow = TimeSpan.FromDays(1000) },
            time, new Random(42));
        fresh.ConnectedAt = now; // stays "new" throughout thanks to the long window
        old.ConnectedAt = now - TimeSpan.FromDays(2000);

        int freshCount = 0, oldCount = 0;
        for (var i = 0; i < 4000; i++)
        {
            var o = choker.Rechoke(peers, amSeed: false).Optimistic;
            if (ReferenceEquals(o, fresh)) freshCount++;
            else if (ReferenceEquals(o, old)) oldCount++;
        }

        Assert.Equal(4000, freshCount + oldCount);
        Assert.InRange((double)freshCount / oldCount, 2.6, 3.4);
    }

    [Fact]
    public void Rechoke_SameSeed_SameDecisions()
    {
        static List<string?> Run()
        {
            var time = Time();
            var peers = Peers(20);
            var choker = new Choker(timeProvider: time, random: new Random(99));
            var result = new List<string?>();
            for (var i = 0; i < 10; i++)
            {
                result.Add(choker.Rechoke(peers, amSeed: false).Optimistic?.Name);
                time.Advance(TimeSpan.FromSeconds(30));
            }
            return result;
        }

        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void IsRechokeDue_AfterInterval_True()
    {
        var time = Time();
        var choker = new Choker(timeProvider: time);
        Assert.True(choker.IsRechokeDue);

        choker.Rechoke(Peers(2), amSeed: false);
        Assert.False(choker.IsRechokeDue);
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.True(choker.IsRechokeDue);
    }
}
