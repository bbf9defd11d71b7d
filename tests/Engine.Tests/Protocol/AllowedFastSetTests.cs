using System.Net;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Tests.Protocol;

public class AllowedFastSetTests
{
    private static readonly byte[] SpecInfoHash = Enumerable.Repeat((byte)0xAA, 20).ToArray();

    [Theory]
    [InlineData(7, new[] { 1059, 431, 808, 1217, 287, 376, 1188 })]
    [InlineData(9, new[] { 1059, 431, 808, 1217, 287, 376, 1188, 353, 508 })]
    public void Generate_Bep6ExampleVectors_MatchSpec(int k, int[] expected)
    {
        var set = new int[k];
        var count = AllowedFastSet.Generate(SpecInfoHash, IPAddress.Parse("80.4.4.200"), 1313, set);
        Assert.Equal(k, count);
        Assert.Equal(expected, set);
    }

    [Fact]
    public void Generate_SameSlash24_SameSet_OtherNetwork_DifferentSet()
    {
        var a = new int[7];
        var b = new int[7];
        var c = new int[7];
        AllowedFastSet.Generate(SpecInfoHash, IPAddress.Parse("80.4.4.1"), 1313, a);
        AllowedFastSet.Generate(SpecInfoHash, IPAddress.Parse("::ffff:80.4.4.200"), 1313, b);
        AllowedFastSet.Generate(SpecInfoHash, IPAddress.Parse("80.4.5.200"), 1313, c);
        Assert.Equal(a, b);
        Assert.Equal([1059, 431, 808, 1217, 287, 376, 1188], a);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void Generate_FewerPiecesThanRequested_ReturnsEveryPieceOnce()
    {
        var set = new int[10];
        var count = AllowedFastSet.Generate(SpecInfoHash, IPAddress.Parse("10.0.0.1"), 3, set);
        Assert.Equal(3, count);
        Assert.Equal([0, 1, 2], set[..3].Order());
    }

    [Fact]
    public void Generate_Ipv6_HasNoCanonicalSet()
    {
        Assert.Equal(0, AllowedFastSet.Generate(SpecInfoHash, IPAddress.IPv6Loopback, 1313, new int[7]));
    }
}
