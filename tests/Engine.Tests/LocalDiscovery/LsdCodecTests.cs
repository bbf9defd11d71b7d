using System.Text;
using TorrentEdge.Engine.LocalDiscovery;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Tests.LocalDiscovery;

public sealed class LsdCodecTests
{
    private static readonly InfoHash A = InfoHash.Parse("0123456789abcdef0123456789abcdef01234567");
    private static readonly InfoHash B = InfoHash.Parse("fedcba9876543210fedcba9876543210fedcba98");

    private static bool Decode(string text, out LsdAnnounce? announce) => LsdCodec.TryDecode(Encoding.ASCII.GetBytes(text), out announce);

    [Fact]
    public void Encode_OneTorrent_IsLibtorrentsText()
    {
        var bytes = LsdCodec.Encode(6881, [A], "c0ffee01");
        Assert.Equal(
            "BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\ncookie: c0ffee01\r\n\r\n\r\n",
            Encoding.ASCII.GetString(bytes));
    }

    [Fact]
    public void Decode_Encoded_RoundTripsEveryTorrentAndTheCookie()
    {
        Assert.True(LsdCodec.TryDecode(LsdCodec.Encode(51413, [A, B], "abc"), out var announce));
        Assert.Equal(51413, announce!.Port);
        Assert.Equal([A, B], announce.InfoHashes);
        Assert.Equal("abc", announce.Cookie);
    }

    [Fact]
    public void Decode_LibtorrentsMessage_IsTaken()
    {
        // As libtorrent 2.0 sends it (lsd.cpp), with a hexadecimal cookie.
        Assert.True(Decode("BT-SEARCH * HTTP/1.1\r\nHost: 239.192.152.143:6771\r\nPort: 6881\r\nInfohash: FEDCBA9876543210FEDCBA9876543210FEDCBA98\r\ncookie: 5f3a\r\n\r\n\r\n", out var announce));
        Assert.Equal(B, Assert.Single(announce!.InfoHashes));
        Assert.Equal("5f3a", announce.Cookie);
    }

    [Fact]
    public void Decode_HeaderNamesInAnyCaseAndBareNewlines_AreTaken()
    {
        Assert.True(Decode("bt-search * HTTP/1.1\nHOST: 239.192.152.143:6771\nport:  7000 \nINFOHASH: 0123456789abcdef0123456789abcdef01234567\n\n", out var announce));
        Assert.Equal(7000, announce!.Port);
        Assert.Null(announce.Cookie);
    }

    [Theory]
    [InlineData("M-SEARCH * HTTP/1.1\r\nPort: 1\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n\r\n")] // SSDP, not BT-SEARCH
    [InlineData("BT-SEARCH * HTTP/1.1\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n\r\n")] // no port
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 0\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 65536\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: -5\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 1\r\nPort: 2\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n\r\n")]
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\n\r\n")] // no torrent
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: 0123\r\nInfohash: zz23456789abcdef0123456789abcdef01234567\r\n\r\n")] // none well-formed
    [InlineData("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U\r\n\r\n")] // base32 is not BEP 14's form
    [InlineData("")]
    public void Decode_Malformed_IsRefused(string text) => Assert.False(Decode(text, out _));

    [Fact]
    public void Decode_HeadersAfterTheBlankLine_AreNotRead()
    {
        Assert.False(Decode("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\n\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n", out _));
    }

    [Fact]
    public void Decode_BinaryOrOversized_IsRefusedWithoutReading()
    {
        var text = "BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\n";
        var nul = Encoding.ASCII.GetBytes(text + "X-Pad: a\0b\r\n\r\n");
        Assert.False(LsdCodec.TryDecode(nul, out _));
        var high = Encoding.ASCII.GetBytes(text + "\r\n").Append((byte)0xC3).ToArray();
        Assert.False(LsdCodec.TryDecode(high, out _));
        var big = Encoding.ASCII.GetBytes(text + "X-Pad: " + new string('a', LsdCodec.MaxDatagramBytes) + "\r\n\r\n");
        Assert.False(LsdCodec.TryDecode(big, out _));
    }

    [Fact]
    public void Decode_ManyTorrents_TakesAtMostTheCapSkippingDuplicatesAndBadOnes()
    {
        var text = new StringBuilder("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: nope\r\n");
        // 23 lines of torrents (two of them repeated) still fit one datagram.
        foreach (var i in new[] { 0, 0, 1, 1 }.Concat(Enumerable.Range(2, 19))) text.Append("Infohash: ").Append(i.ToString("x40")).Append("\r\n");
        Assert.True(Decode(text.Append("\r\n").ToString(), out var announce));
        Assert.Equal(LsdCodec.MaxInfoHashes, announce!.InfoHashes.Count);
        Assert.Equal(announce.InfoHashes.Count, announce.InfoHashes.Distinct().Count());
    }

    [Fact]
    public void Decode_OverlongCookie_IsIgnoredNotTheMessage()
    {
        Assert.True(Decode("BT-SEARCH * HTTP/1.1\r\nPort: 6881\r\nInfohash: 0123456789abcdef0123456789abcdef01234567\r\ncookie: " + new string('9', 40) + "\r\n\r\n", out var announce));
        Assert.Null(announce!.Cookie);
    }

    [Fact]
    public void Encode_BadArguments_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => LsdCodec.Encode(0, [A], null));
        Assert.Throws<ArgumentOutOfRangeException>(() => LsdCodec.Encode(70000, [A], null));
        Assert.Throws<ArgumentOutOfRangeException>(() => LsdCodec.Encode(1, [], null));
        Assert.Throws<ArgumentOutOfRangeException>(() => LsdCodec.Encode(1, Enumerable.Range(0, 21).Select(i => InfoHash.Parse(i.ToString("x40"))).ToList(), null));
        Assert.Throws<ArgumentException>(() => LsdCodec.Encode(1, [A], "bad cookie\r\nPort: 2"));
    }

    [Fact]
    public void Encode_MostTorrents_FitsOneDatagram()
    {
        var hashes = Enumerable.Range(0, LsdCodec.MaxInfoHashes).Select(i => InfoHash.Parse(i.ToString("x40"))).ToList();
        var bytes = LsdCodec.Encode(65535, hashes, new string('f', LsdCodec.MaxCookieLength));
        Assert.True(bytes.Length <= LsdCodec.MaxDatagramBytes, $"{bytes.Length} bytes");
        Assert.True(LsdCodec.TryDecode(bytes, out var announce));
        Assert.Equal(hashes, announce!.InfoHashes);
    }
}
