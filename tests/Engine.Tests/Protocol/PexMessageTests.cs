using System.Net;
using System.Text;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Tests.Protocol;

/// <summary>The ut_pex (BEP 11) codec: round trips, BEP 11's wire form, and what a hostile body can and cannot do.</summary>
public sealed class PexMessageTests
{
    private static IPEndPoint Ep(string text) => IPEndPoint.Parse(text);

    private static byte[] Body(string bencode) => Encoding.Latin1.GetBytes(bencode);

    [Fact]
    public void Encode_ThenParse_RoundTripsAddedFlagsAndDroppedInBothFamilies()
    {
        var sent = new PexMessage
        {
            Added = [new(Ep("192.0.2.1:6881"), PexFlags.Seed | PexFlags.Reachable), new(Ep("[2001:db8::5]:51413"), PexFlags.PrefersEncryption)],
            Dropped = [Ep("198.51.100.9:7000"), Ep("[2001:db8::9]:7001")],
        };

        Assert.True(PexMessage.TryParse(sent.Encode(), out var parsed));

        Assert.Equal(sent.Added, parsed!.Added);
        Assert.Equal(sent.Dropped, parsed.Dropped);
    }

    [Fact]
    public void Encode_OneIPv4Peer_IsBep11sCompactForm()
    {
        var bytes = new PexMessage { Added = [new(Ep("10.0.0.1:6881"), PexFlags.Reachable)], Dropped = [Ep("10.0.0.2:256")] }.Encode();

        // 6881 = 0x1AE1, 256 = 0x0100; keys sorted; no added6/dropped6 when there is no IPv6 peer.
        Assert.Equal(Body("d5:added6:\x0a\x00\x00\x01\x1a\xe1" + "7:added.f1:\x10" + "7:dropped6:\x0a\x00\x00\x02\x01\u0000e"), bytes);
    }

    [Fact]
    public void Encode_MoreThanFiftyAdded_Throws()
    {
        var added = Enumerable.Range(1, PexMessage.MaxPeersPerList + 1).Select(i => new PexPeer(new IPEndPoint(IPAddress.Parse("10.0.0.1"), i))).ToList();
        Assert.Throws<InvalidOperationException>(() => new PexMessage { Added = added }.Encode());
    }

    [Fact]
    public void TryParse_ListsLongerThanFifty_KeepsTheFirstFiftyOfEach()
    {
        var compact = new StringBuilder();
        for (var i = 1; i <= 1000; i++) compact.Append("\x0a\x00\x00\x01").Append((char)(i >> 8)).Append((char)(i & 0xff));
        var list = compact.ToString();
        var body = Body($"d5:added{list.Length}:{list}7:dropped{list.Length}:{list}e");

        Assert.True(PexMessage.TryParse(body, out var parsed));

        Assert.Equal(PexMessage.MaxPeersPerList, parsed!.Added.Count);
        Assert.Equal(PexMessage.MaxPeersPerList, parsed.Dropped.Count);
        Assert.Equal(Ep("10.0.0.1:1"), parsed.Added[0].EndPoint);
        Assert.Equal(Ep("10.0.0.1:50"), parsed.Added[^1].EndPoint);
    }

    [Fact]
    public void TryParse_OddCompactLength_ReadsUpToTheLastWholeEntry()
    {
        // 6 + 4 bytes in added (IPv4), 18 + 3 in added6.
        var body = Body("d5:added10:\x0a\x00\x00\x01\x1a\xe1\x0a\x00\x00\x02" +
                        "6:added621:\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x05\x1a\xe1\x01\x02\u0003e");

        Assert.True(PexMessage.TryParse(body, out var parsed));

        Assert.Equal([Ep("10.0.0.1:6881"), Ep("[2001:db8::5]:6881")], parsed!.Added.Select(p => p.EndPoint));
    }

    [Fact]
    public void TryParse_WrongTypesAndPortZero_AreIgnoredNotFatal()
    {
        // added is an integer, added.f is a list, dropped holds one entry with port 0 and one good one.
        var body = Body("d5:addedi42e7:added.fli1ee7:dropped12:\x0a\x00\x00\x01\x00\x00\x0a\x00\x00\x03\x00\u0050e");

        Assert.True(PexMessage.TryParse(body, out var parsed));

        Assert.Empty(parsed!.Added);
        Assert.Equal([Ep("10.0.0.3:80")], parsed.Dropped);
    }

    [Fact]
    public void TryParse_FlagsShorterThanAdded_MissingFlagsAreNone()
    {
        var body = Body("d5:added12:\x0a\x00\x00\x01\x00\x01\x0a\x00\x00\x02\x00\x02" + "7:added.f1:\u0002e");

        Assert.True(PexMessage.TryParse(body, out var parsed));

        Assert.Equal([PexFlags.Seed, PexFlags.None], parsed!.Added.Select(p => p.Flags));
    }

    [Fact]
    public void TryParse_IPv4MappedAddressInAdded6_IsSkipped()
    {
        // ::ffff:10.0.0.1 would be a 51st IPv4 peer smuggled past the cap of "added".
        var mapped = new byte[18];
        mapped[10] = 0xff; mapped[11] = 0xff; mapped[12] = 10; mapped[15] = 1; mapped[17] = 80;
        var body = (byte[])[.. Encoding.ASCII.GetBytes("d6:added618:"), .. mapped, (byte)'e'];

        Assert.True(PexMessage.TryParse(body, out var parsed));

        Assert.Empty(parsed!.Added);
    }

    [Theory]
    [InlineData("")]
    [InlineData("le")]
    [InlineData("i5e")]
    [InlineData("d5:added")]
    [InlineData("d5:added99999:")]
    public void TryParse_NotABencodedDictionary_Fails(string body)
    {
        Assert.False(PexMessage.TryParse(Body(body), out var parsed));
        Assert.Null(parsed);
    }
}
