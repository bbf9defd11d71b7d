using System.Diagnostics;
using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.PiecePicking;

namespace TorrentEdge.Engine.Tests.PiecePicking;

public class AvailabilityTests
{
    private static void AssertSortedAndConsistent(Availability availability, int[] expected, int retired = 0)
    {
        var order = availability.PiecesByRarity;
        Assert.Equal(expected.Length - retired, order.Length);
        var seen = new bool[expected.Length];
        var previous = int.MinValue;
        foreach (var piece in order)
        {
            Assert.False(seen[piece]);
            Assert.False(availability.IsRetired(piece));
            seen[piece] = true;
            Assert.Equal(expected[piece] + availability.Seeds, availability[piece]);
            Assert.True(availability[piece] >= previous, "rarity order is not ascending");
            previous = availability[piece];
        }
    }

    [Fact]
    public void AddPeerHaveAndRemovePeer_CountsAndKeepsRarityOrder()
    {
        var availability = new Availability(10);
        var a = new BitField(10);
        a[1] = a[2] = a[3] = true;
        var b = new BitField(10);
        b[2] = b[3] = true;

        availability.AddPeer(a);
        availability.AddPeer(b);
        availability.Increment(3);
        AssertSortedAndConsistent(availability, [0, 1, 2, 3, 0, 0, 0, 0, 0, 0]);
        Assert.Equal(3, availability.PiecesByRarity[^1]);

        availability.RemovePeer(a);
        AssertSortedAndConsistent(availability, [0, 0, 1, 2, 0, 0, 0, 0, 0, 0]);
        Assert.Equal(0, availability.Minimum);
    }

    [Fact]
    public void AddSeed_CountsEveryPieceWithoutReordering()
    {
        var availability = new Availability(5);
        availability.Increment(4);
        availability.AddSeed();
        availability.AddSeed();
        AssertSortedAndConsistent(availability, [0, 0, 0, 0, 1]);
        Assert.Equal(2, availability[0]);
        Assert.Equal(3, availability[4]);
        Assert.Equal(2, availability.Minimum);
        availability.RemoveSeed();
        Assert.Equal(1, availability[0]);
    }

    [Fact]
    public void Retire_LeavesRarityOrderButKeepsCounting()
    {
        var random = new Random(9);
        const int pieces = 500;
        var availability = new Availability(pieces);
        var expected = new int[pieces];
        var retired = 0;
        for (var step = 0; step < 20_000; step++)
        {
            var piece = random.Next(pieces);
            switch (random.Next(10))
            {
                case 0 when !availability.IsRetired(piece):
                    availability.Retire(piece);
                    retired++;
                    break;
                case 1 or 2 when expected[piece] > 0:
                    availability.Decrement(piece);
                    expected[piece]--;
                    break;
                default:
                    availability.Increment(piece);
                    expected[piece]++;
                    break;
            }
        }
        Assert.True(retired > 100);
        AssertSortedAndConsistent(availability, expected, retired);
        for (var i = 0; i < pieces; i++) Assert.Equal(expected[i], availability[i]);
    }

    [Fact]
    public void Decrement_BelowZero_Throws()
    {
        var availability = new Availability(3);
        Assert.Throws<InvalidOperationException>(() => availability.Decrement(1));
        Assert.Throws<InvalidOperationException>(() => availability.RemoveSeed());
    }

    [Fact]
    public void RandomChanges_MatchANaiveCountAndStaySorted()
    {
        var random = new Random(42);
        const int pieces = 300;
        var availability = new Availability(pieces);
        var expected = new int[pieces];
        for (var step = 0; step < 20_000; step++)
        {
            var piece = random.Next(pieces);
            if (expected[piece] > 0 && random.Next(3) == 0)
            {
                availability.Decrement(piece);
                expected[piece]--;
            }
            else
            {
                availability.Increment(piece);
                expected[piece]++;
            }
        }
        AssertSortedAndConsistent(availability, expected);
    }

    [Fact]
    public void HundredThousandPieces_FiftyPeersAndHaves_Quick()
    {
        const int pieces = 100_000;
        var random = new Random(7);
        var availability = new Availability(pieces);
        var expected = new int[pieces];
        var peers = new List<BitField>();
        var sw = Stopwatch.StartNew();
        for (var p = 0; p < 50; p++)
        {
            var bits = new BitField(pieces);
            for (var i = 0; i < pieces; i++)
                if (random.Next(2) == 0) { bits[i] = true; expected[i]++; }
            peers.Add(bits);
        }
        var built = sw.Elapsed;
        sw.Restart();
        foreach (var bits in peers) availability.AddPeer(bits);
        for (var h = 0; h < 100_000; h++)
        {
            var piece = random.Next(pieces);
            availability.Increment(piece);
            expected[piece]++;
        }
        availability.RemovePeer(peers[0]);
        for (var i = 0; i < pieces; i++) if (peers[0][i]) expected[i]--;
        var elapsed = sw.Elapsed;

        AssertSortedAndConsistent(availability, expected);
        // ~2.6M O(1) updates; generous bound for a shared 2-core machine and a Debug build.
        Assert.True(elapsed < TimeSpan.FromSeconds(30), $"updates took {elapsed} (building bitfields {built})");
    }
}
