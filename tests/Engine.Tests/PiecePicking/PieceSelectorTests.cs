using TorrentEdge.Engine.PiecePicking;

namespace TorrentEdge.Engine.Tests.PiecePicking;

public class PieceSelectorTests
{
    private const int Pieces = 200;

    private static PiecePicker Picker(PiecePickerSettings settings, int seed = 1) =>
        new(Pieces * 1000L, 1000, settings, random: new Random(seed));

    private static PieceSet All(params int[] except)
    {
        var set = new PieceSet(Pieces);
        set.SetAll();
        foreach (var e in except) set[e] = false;
        return set;
    }

    [Fact]
    public void FirstAvailable_ReturnsLowestCandidate()
    {
        var set = new PieceSet(Pieces);
        set[17] = set[40] = true;
        Assert.Equal(17, new FirstAvailableSelector().SelectPiece(new TestPeer(Pieces), set));
        Assert.Equal(-1, new FirstAvailableSelector().SelectPiece(new TestPeer(Pieces), new PieceSet(Pieces)));
    }

    [Fact]
    public void Suggested_SuggestionIsCandidate_PickedBeforeRarest()
    {
        var picker = Picker(new PiecePickerSettings { RandomFirstPieces = 0 });
        // 9 is the rarest; the peer suggests 150 (not a candidate: ignored), then 60.
        for (var p = 0; p < Pieces; p++) if (p != 9) picker.Availability.Increment(p);
        var peer = TestPeer.Seed(Pieces);
        peer.SuggestedPieces = [150, 60];
        var selector = new SuggestedSelector(new RarestFirstSelector(picker.Context));

        Assert.Equal(60, selector.SelectPiece(peer, All(except: 150)));
        peer.SuggestedPieces = [];
        Assert.Equal(9, selector.SelectPiece(peer, All(except: 150)));
    }

    [Fact]
    public void PickBlocks_SuggestedPieceOfLowerPriority_PriorityStillWins()
    {
        var picker = new PiecePicker(Pieces * 1000L, 1000, new PiecePickerSettings { RandomFirstPieces = 0 }, random: new Random(1));
        var priorities = Enumerable.Repeat(PiecePriority.Normal, Pieces).ToArray();
        priorities[30] = PiecePriority.High;
        picker.SetPriorities(priorities);
        var peer = TestPeer.Seed(Pieces);
        peer.SuggestedPieces = [70];
        var blocks = new TorrentEdge.Engine.Protocol.BlockRequest[2];

        Assert.Equal(2, picker.PickBlocks(peer, blocks));
        Assert.Equal(30, blocks[0].PieceIndex);
        Assert.Equal(70, blocks[1].PieceIndex);
    }

    [Fact]
    public void RarestFirst_ManyCandidates_PicksTheLeastAvailable()
    {
        var picker = Picker(new PiecePickerSettings { RandomFirstPieces = 0 });
        for (var p = 0; p < Pieces; p++) if (p != 123) { picker.Availability.Increment(p); picker.Availability.Increment(p); }
        picker.Availability.Increment(123);
        var selector = new RarestFirstSelector(picker.Context);

        Assert.Equal(123, selector.SelectPiece(new TestPeer(Pieces), All()));
        // Without 123 among the candidates, any piece of count 2 qualifies.
        var next = selector.SelectPiece(new TestPeer(Pieces), All(123));
        Assert.NotEqual(123, next);
        Assert.Equal(2, picker.Availability[next]);
    }

    [Fact]
    public void RarestFirst_FewCandidates_PicksTheLeastAvailableAmongThem()
    {
        var picker = Picker(PiecePickerSettings.Default);
        picker.Availability.Increment(10);
        picker.Availability.Increment(10);
        picker.Availability.Increment(11);
        var set = new PieceSet(Pieces);
        set[10] = set[11] = true;
        Assert.Equal(11, new RarestFirstSelector(picker.Context).SelectPiece(new TestPeer(Pieces), set));
    }

    [Fact]
    public void RandomFirst_UntilEnoughPiecesVerified_PicksRandomlyThenDelegates()
    {
        var picker = Picker(new PiecePickerSettings { RandomFirstPieces = 2 }, seed: 5);
        var selector = new RandomFirstSelector(new FirstAvailableSelector(), picker.Context, 2);
        var picks = Enumerable.Range(0, 50).Select(_ => selector.SelectPiece(new TestPeer(Pieces), All())).ToHashSet();
        Assert.True(picks.Count > 10, $"only {picks.Count} distinct random picks");

        picker.PieceVerified(0);
        picker.PieceVerified(1);
        Assert.Equal(2, selector.SelectPiece(new TestPeer(Pieces), All(0, 1)));
    }

    [Fact]
    public void Priority_HighBeforeNormalBeforeLow_SkipNeverOffered()
    {
        var picker = Picker(new PiecePickerSettings { RandomFirstPieces = 0, RarestFirst = false });
        var priorities = Enumerable.Repeat(PiecePriority.Low, Pieces).ToArray();
        priorities[150] = PiecePriority.High;
        priorities[100] = PiecePriority.Normal;
        priorities[0] = PiecePriority.Skip;
        picker.SetPriorities(priorities);
        var selector = new PrioritySelector(new FirstAvailableSelector(), picker.Context);

        Assert.Equal(150, selector.SelectPiece(new TestPeer(Pieces), All(0)));
        Assert.Equal(100, selector.SelectPiece(new TestPeer(Pieces), All(0, 150)));
        Assert.Equal(1, selector.SelectPiece(new TestPeer(Pieces), All(0, 150, 100)));
    }

    [Fact]
    public void Sequential_StartsAtPositionAndWraps()
    {
        var picker = Picker(new PiecePickerSettings { Sequential = true });
        picker.SequentialPosition = 190;
        var selector = new SequentialSelector(picker.Context);
        Assert.Equal(190, selector.SelectPiece(new TestPeer(Pieces), All()));
        var set = new PieceSet(Pieces);
        set[3] = true;
        Assert.Equal(3, selector.SelectPiece(new TestPeer(Pieces), set));
    }

    [Fact]
    public void CreateSelector_AssemblesChainFromSettings()
    {
        var context = Picker(PiecePickerSettings.Default).Context;
        Assert.IsType<PrioritySelector>(PiecePicker.CreateSelector(PiecePickerSettings.Default, context));
    }
}
