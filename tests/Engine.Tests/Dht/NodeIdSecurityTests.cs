using System.Net;
using TorrentEdge.Engine.Dht;

namespace TorrentEdge.Engine.Tests.Dht;

public sealed class NodeIdSecurityTests
{
    // The examples of BEP 42: address, the random byte, and an id that passes.
    public static TheoryData<string, byte, string> Bep42Examples => new()
    {
        { "124.31.75.21", 1, "5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401" },
        { "21.75.31.124", 86, "5a3ce9c14e7a08645677bbd1cfe7d8f956d53256" },
        { "65.23.51.170", 22, "a5d43220bc8f112a3d426c84764f8c2a1150e616" },
        { "84.124.73.14", 65, "1b0321dd1bb1fe518101ceef99462b947a01ff41" },
        { "43.213.53.83", 90, "e56f6cbf5b7c4be0237986d5243b87aa6d51305a" },
    };

    [Theory]
    [MemberData(nameof(Bep42Examples))]
    public void IsValid_Bep42Examples_Pass(string address, byte _, string id)
    {
        Assert.True(NodeIdSecurity.IsValid(new NodeId(Convert.FromHexString(id)), IPAddress.Parse(address)));
    }

    [Theory]
    [MemberData(nameof(Bep42Examples))]
    public void Generate_Bep42Examples_GivesTheSameFirst21Bits(string address, byte r, string id)
    {
        var mine = NodeIdSecurity.Generate(IPAddress.Parse(address), r).ToArray();
        var theirs = Convert.FromHexString(id);
        Assert.Equal(theirs[0], mine[0]);
        Assert.Equal(theirs[1], mine[1]);
        Assert.Equal(theirs[2] & 0xf8, mine[2] & 0xf8);
        Assert.Equal(r & 7, mine[19]);
    }

    [Fact]
    public void IsValid_IdOfAnotherAddress_Fails()
    {
        var id = new NodeId(Convert.FromHexString("5fbfbff10c5d6a4ec8a88e4c6ab4c28b95eee401"));
        Assert.False(NodeIdSecurity.IsValid(id, IPAddress.Parse("21.75.31.124")));
    }

    [Theory]
    [InlineData("127.0.0.2")]
    [InlineData("10.1.2.3")]
    [InlineData("192.168.1.1")]
    [InlineData("172.20.0.1")]
    public void IsValid_LocalAddress_AnyIdPasses(string address)
    {
        Assert.True(NodeIdSecurity.IsValid(NodeId.Random(), IPAddress.Parse(address)));
    }
}
