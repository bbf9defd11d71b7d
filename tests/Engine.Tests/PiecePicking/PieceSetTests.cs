using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.PiecePicking;

namespace TorrentEdge.Engine.Tests.PiecePicking;

public class PieceSetTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(63)]
    [InlineData(64)]
    [InlineData(65)]
    [InlineData(1000)]
    public void CopyFrom_BitField_SameBits(int length)
    {
        var random = new Random(length);
        var bits = new BitField(length);
        for (var i = 0; i < length; i++) bits[i] = random.Next(3) == 0;
        var set = new PieceSet(length);
        set.CopyFrom(bits);

        for (var i = 0; i < length; i++) Assert.Equal(bits[i], set[i]);
        Assert.Equal(bits.TrueCount, set.Count());
    }

    [Fact]
    public void NextSet_AndWrapping_FindTheNextMember()
    {
        var set = new PieceSet(200);
        set[5] = true;
        set[130] = true;
        Assert.Equal(5, set.NextSet(0));
        Assert.Equal(130, set.NextSet(6));
        Assert.Equal(-1, set.NextSet(131));
        Assert.Equal(5, set.NextSetWrapping(131));
        Assert.Equal(-1, new PieceSet(200).NextSetWrapping(50));
    }

    [Fact]
    public void SetAll_LeavesNoBitsPastTheEnd()
    {
        var set = new PieceSet(70);
        set.SetAll();
        Assert.Equal(70, set.Count());
        Assert.Equal(-1, set.NextSet(70));
    }

    [Fact]
    public void AndAndNotOrIntersects_BehaveAsSetOperations()
    {
        var a = new PieceSet(100);
        var b = new PieceSet(100);
        a[1] = a[2] = a[99] = true;
        b[2] = b[3] = b[99] = true;
        var c = new PieceSet(100);
        c.SetToAnd(a, b);
        Assert.Equal(2, c.Count());
        Assert.True(c[2] && c[99]);
        c.CopyFrom(a);
        c.AndNot(b);
        Assert.Equal(1, c.NextSet(0));
        Assert.Equal(-1, c.NextSet(2));
        c.Or(b);
        Assert.Equal(4, c.Count());
        Assert.True(a.Intersects(b));
        c.Clear();
        Assert.True(c.IsEmpty);
        Assert.False(c.Intersects(a));
    }
}
