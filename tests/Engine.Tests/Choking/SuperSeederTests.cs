using TorrentEdge.Engine.Choking;
using TorrentEdge.Engine.Common;

namespace TorrentEdge.Engine.Tests.Choking;

public class SuperSeederTests
{
    private static BitField Has(int length, params int[] pieces)
    {
        var bits = new BitField(length);
        foreach (var p in pieces) bits[p] = true;
        return bits;
    }

    [Fact]
    public void PeerConnected_Peers_GetDistinctPiecesNeverReservedOnes()
    {
        var seeder = new SuperSeeder<string>(4, random: new Random(1));
        Assert.Equal(3, seeder.PeerConnected("x", Has(4, 0, 1, 2)));

        var offered = new[] { seeder.PeerConnected("a"), seeder.PeerConnected("b"), seeder.PeerConnected("c") };

        Assert.Equal([0, 1, 2], offered.Order());
        Assert.Equal(-1, seeder.PeerConnected("d"));
        Assert.Equal(3, seeder.GetOffered("x"));
    }

    [Fact]
    public void PeerConnected_PiecesDifferInRarity_OffersRarest()
    {
        var seeder = new SuperSeeder<string>(3, random: new Random(1));
        Assert.Equal(2, seeder.PeerConnected("f1", Has(3, 0, 1)));
        Assert.Equal(1, seeder.PeerConnected("f2", Has(3, 0)));
        seeder.PeerDisconnected("f1"); // frees piece 2; availability now 0:1, 1:0 (reserved), 2:0

        Assert.Equal(2, seeder.PeerConnected("n"));
        Assert.Equal(0, seeder.PeerConnected("m"));
    }

    [Fact]
    public void OnHave_PeerGotItsPiece_NextPieceButOldStaysReservedUntilSpread()
    {
        var seeder = new SuperSeeder<string>(3, random: new Random(1));
        var first = seeder.PeerConnected("a");
        var advertise = new List<(string, int)>();

        seeder.OnHave("a", first, advertise);

        var (peer, second) = Assert.Single(advertise);
        Assert.Equal("a", peer);
        Assert.NotEqual(first, second);
        var third = seeder.PeerConnected("b");
        Assert.NotEqual(first, third);
        Assert.NotEqual(second, third);

        // b reports a's first piece: it has spread, so it is free again (but b has it already).
        advertise.Clear();
        seeder.OnHave("b", first, advertise);
        Assert.Empty(advertise);
        Assert.Equal(first, seeder.PeerConnected("c"));
    }

    [Fact]
    public void OnHave_Strict_NextPieceOnlyAfterSpread()
    {
        var seeder = new SuperSeeder<string>(4, strict: true, random: new Random(1));
        var pieceA = seeder.PeerConnected("a");
        var pieceB = seeder.PeerConnected("b");
        var advertise = new List<(string, int)>();

        seeder.OnHave("a", pieceA, advertise);
        Assert.Empty(advertise);

        seeder.OnHave("b", pieceA, advertise); // a passed its piece on to b
        var (peer, next) = Assert.Single(advertise);
        Assert.Equal("a", peer);
        Assert.NotEqual(pieceA, next);
        Assert.NotEqual(pieceB, next);
    }

    [Fact]
    public void PeerDisconnected_ReservedPieceNotSpread_OfferedToOthers()
    {
        var seeder = new SuperSeeder<string>(1, random: new Random(1));
        Assert.Equal(0, seeder.PeerConnected("a"));
        Assert.Equal(-1, seeder.PeerConnected("b"));

        seeder.PeerDisconnected("a");
        seeder.PeerConnected("c", Has(1));

        Assert.Equal(0, seeder.GetOffered("c"));
    }

    [Fact]
    public void OnHave_UpdatesAvailability()
    {
        var seeder = new SuperSeeder<string>(2, random: new Random(1));
        seeder.PeerConnected("a", Has(2, 1));
        seeder.PeerConnected("b");

        seeder.OnHave("b", 1, new List<(string, int)>());

        Assert.Equal(2, seeder.GetAvailability(1));
        seeder.PeerDisconnected("a");
        Assert.Equal(1, seeder.GetAvailability(1));
    }
}
