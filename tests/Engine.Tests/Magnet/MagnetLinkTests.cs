using System.Net;
using TorrentEdge.Engine.Magnet;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Tests.Magnet;

public class MagnetLinkTests
{
    private const string Hex = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";

    [Fact]
    public void Parse_HexWithEverything_ReadsAllParts()
    {
        var m = MagnetLink.Parse(
            $"magnet:?xt=urn:btih:{Hex.ToUpperInvariant()}&dn=Big+Buck%20Bunny&tr=udp%3A%2F%2Ftracker.example%3A80%2Fannounce" +
            "&tr=http%3A%2F%2Fa.example%2Fannounce%3Fkey%3D1&tr.1=udp%3A%2F%2Ftracker.example%3A80%2Fannounce" +
            "&x.pe=10.0.0.1:6881&x.pe=%5B2001:db8::1%5D:51413&x.pe=peer.example:7000&xl=12345&ws=http%3A%2F%2Fweb%2Ff");
        Assert.Equal(InfoHash.Parse(Hex), m.InfoHash);
        Assert.Equal("Big Buck Bunny", m.DisplayName);
        Assert.Equal(["udp://tracker.example:80/announce", "http://a.example/announce?key=1"], m.Trackers);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("10.0.0.1"), 6881), m.Peers[0]);
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8::1"), 51413), m.Peers[1]);
        Assert.Equal(new DnsEndPoint("peer.example", 7000), m.Peers[2]);
        Assert.Equal(12345, m.ExactLength);
        Assert.Equal(["http://web/f"], m.WebSeeds);
        Assert.Equal(2, m.AnnounceTiers.Count);
    }

    [Fact]
    public void Parse_Base32_SameHashAsHex()
        => Assert.Equal(InfoHash.Parse(Hex), MagnetLink.Parse("magnet:?xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEK").InfoHash);

    [Fact]
    public void Parse_HybridWithBtmh_UsesBtih()
        => Assert.Equal(InfoHash.Parse(Hex), MagnetLink.Parse($"magnet:?xt=urn:btmh:1220{new string('a', 64)}&xt=urn:btih:{Hex}").InfoHash);

    [Theory]
    [InlineData("", "empty")]
    [InlineData("http://example.com", "magnet:?")]
    [InlineData("magnet:?dn=x", "no 'xt=urn:btih:'")]
    [InlineData("magnet:?xt=urn:btih:1234", "not an info-hash")]
    [InlineData("magnet:?xt=urn:btmh:1220aaaa", "v2-only")]
    [InlineData("magnet:?xt=urn:btih:c12fe1c06bba254a9dc9f519b335aa7c1367a88a&xt=urn:btih:YEX6DQDLXISUVHOJ6UM3GNNKPQJWPKEA", "two different")]
    public void TryParse_Invalid_ReturnsReason(string uri, string reason)
    {
        Assert.False(MagnetLink.TryParse(uri, out var link, out var error));
        Assert.Null(link);
        Assert.Contains(reason, error);
        Assert.Contains(reason, Assert.Throws<MetainfoException>(() => MagnetLink.Parse(uri)).Message);
    }

    [Theory]
    [InlineData("1.2.3.4")]
    [InlineData("1.2.3.4:0")]
    [InlineData("1.2.3.4:70000")]
    [InlineData("2001:db8::1:80")]
    [InlineData("[2001:db8::1]")]
    [InlineData("[1.2.3.4]:80")]
    [InlineData("bad host:80")]
    public void TryParsePeer_Invalid_ReturnsFalse(string text) => Assert.False(MagnetLink.TryParsePeer(text, out _));

    [Fact]
    public void Parse_BadPeersAndTrackers_AreSkipped()
    {
        var m = MagnetLink.Parse($"magnet:?xt=urn:btih:{Hex}&tr=ftp%3A%2F%2Fx&tr=garbage&x.pe=nope");
        Assert.Empty(m.Trackers);
        Assert.Empty(m.Peers);
    }

    [Fact]
    public void ToString_RoundTrips()
    {
        var m = MagnetLink.Parse($"magnet:?xt=urn:btih:{Hex}&dn=a%20b%26c&tr=udp%3A%2F%2Ft%3A1%2Fannounce&x.pe=%5B::1%5D:5&x.pe=1.2.3.4:5");
        var again = MagnetLink.Parse(m.ToString());
        Assert.Equal(m.InfoHash, again.InfoHash);
        Assert.Equal("a b&c", again.DisplayName);
        Assert.Equal(m.Trackers, again.Trackers);
        Assert.Equal(m.Peers, again.Peers);
    }
}
