using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Tests.Metainfo;

public class InfoHashTests
{
    private static readonly byte[] Bytes = Convert.FromHexString("c12fe1c06bba254a9dc9f519b335aa7c1367a88a");

    [Fact]
    public void ToHex_ReturnsLowerCase()
        => Assert.Equal("c12fe1c06bba254a9dc9f519b335aa7c1367a88a", new InfoHash(Bytes).ToHex());

    [Fact]
    public void Parse_UpperCaseHex_Equal()
    {
        var h = InfoHash.Parse("C12FE1C06BBA254A9DC9F519B335AA7C1367A88A");
        Assert.Equal(new InfoHash(Bytes), h);
        Assert.True(h == new InfoHash(Bytes));
        Assert.Equal(Bytes, h.ToArray());
        Assert.Equal(new InfoHash(Bytes).GetHashCode(), h.GetHashCode());
    }

    [Fact]
    public void Base32_RoundTrips()
    {
        var h = new InfoHash(Bytes);
        var b32 = h.ToBase32();
        Assert.Equal(32, b32.Length);
        Assert.Equal("YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK", b32);
        Assert.Equal(h, InfoHash.Parse(b32));
        Assert.Equal(h, InfoHash.Parse(b32.ToLowerInvariant()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("c12fe1c06bba254a9dc9f519b335aa7c1367a88")]
    [InlineData("g12fe1c06bba254a9dc9f519b335aa7c1367a88a")]
    [InlineData("YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKE1")]
    public void TryParse_Invalid_ReturnsFalse(string text) => Assert.False(InfoHash.TryParse(text, out _));

    [Fact]
    public void Constructor_WrongLength_Throws() => Assert.Throws<ArgumentException>(() => new InfoHash(new byte[19]));

    [Fact]
    public void Default_DiffersFromNonZero() => Assert.NotEqual(default, new InfoHash(Bytes));
}
