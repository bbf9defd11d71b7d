using System.Text;
using TorrentEdge.Engine.Bencoding;
using TorrentEdge.Engine.Metainfo;
using static TorrentEdge.Engine.Tests.Metainfo.TestTorrents;

namespace TorrentEdge.Engine.Tests.Metainfo;

public class TorrentMetainfoTests
{
    private static MetainfoException Fails(byte[] torrent) => Assert.Throws<MetainfoException>(() => TorrentMetainfo.Parse(torrent));

    [Fact]
    public void Parse_SingleFile_ReadsProperties()
    {
        var info = SingleFileInfo("movie.mkv", 40000, 16384);
        var root = new BDictionary
        {
            { "info", info },
            { "announce", new BString("http://t/announce") },
            { "comment", new BString("hello") },
            { "created by", new BString("maker 1.0") },
            { "creation date", new BInteger(1700000000) },
        };
        var m = TorrentMetainfo.Parse(root.Encode());

        Assert.Equal("movie.mkv", m.Name);
        Assert.Equal(16384, m.PieceLength);
        Assert.Equal(3, m.PieceCount);
        Assert.Equal(40000, m.TotalLength);
        Assert.Equal(40000 - (2 * 16384), m.GetPieceLength(2));
        Assert.Equal(16384, m.GetPieceLength(0));
        Assert.Equal(60, m.PieceHashes.Length);
        var f = Assert.Single(m.Files);
        Assert.Equal(new TorrentFile("movie.mkv", ["movie.mkv"], 40000, 0, false).Path, f.Path);
        Assert.False(m.IsMultiFile);
        Assert.False(m.IsPrivate);
        Assert.False(m.IsHybrid);
        Assert.Equal([["http://t/announce"]], m.AnnounceTiers);
        Assert.Equal("hello", m.Comment);
        Assert.Equal("maker 1.0", m.CreatedBy);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1700000000), m.CreationDate);
        Assert.Throws<ArgumentOutOfRangeException>(() => m.GetPieceLength(3));
    }

    [Fact]
    public void Parse_Any_InfoHashIsSha1OfRawInfoBytes()
    {
        var info = SingleFileInfo();
        var infoBytes = info.Encode();
        var m = TorrentMetainfo.Parse(Torrent(info));
        Assert.Equal(new InfoHash(Sha1(infoBytes)), m.InfoHash);
        Assert.Equal(infoBytes, m.InfoBytes.ToArray());
    }

    [Fact]
    public void Parse_InfoWithUnknownKeys_HashesExactBytesNotReencoding()
    {
        // An extra key we do not model must still be part of the hash.
        var info = SingleFileInfo();
        info.Add("x-extra", new BList { new BInteger(7) });
        var m = TorrentMetainfo.Parse(Torrent(info));
        Assert.Equal(new InfoHash(Sha1(info.Encode())), m.InfoHash);
    }

    [Fact]
    public void Parse_MultiFile_ComputesOffsetsAndPaths()
    {
        var info = MultiFileInfo("album", 16384, (["cd1", "a.flac"], 10000), (["b.flac"], 0), (["cd2", "c.flac"], 30000));
        var m = TorrentMetainfo.Parse(Torrent(info));
        Assert.True(m.IsMultiFile);
        Assert.Equal(40000, m.TotalLength);
        Assert.Equal(["album/cd1/a.flac", "album/b.flac", "album/cd2/c.flac"], m.Files.Select(f => f.Path));
        Assert.Equal([0L, 10000L, 10000L], m.Files.Select(f => f.Offset));
        Assert.Equal(["album", "cd2", "c.flac"], m.Files[2].PathSegments);
    }

    [Fact]
    public void Parse_AnnounceList_ReturnsTiersAndIgnoresAnnounce()
    {
        var al = new BList
        {
            new BList { new BString("http://a/announce"), new BString("udp://b:80/announce") },
            new BList { new BString("https://c/announce"), new BString("not a url"), new BString("http://a/announce") },
            new BList(),
        };
        var m = TorrentMetainfo.Parse(Torrent(SingleFileInfo(), "http://ignored/announce", al));
        Assert.Equal(2, m.AnnounceTiers.Count);
        Assert.Equal(["http://a/announce", "udp://b:80/announce"], m.AnnounceTiers[0]);
        Assert.Equal(["https://c/announce"], m.AnnounceTiers[1]);
    }

    [Fact]
    public void Parse_NoTrackers_EmptyTiers() => Assert.Empty(TorrentMetainfo.Parse(Torrent(SingleFileInfo(), null)).AnnounceTiers);

    [Fact]
    public void Parse_PrivateFlag_IsPrivate()
    {
        var info = SingleFileInfo();
        info.Add("private", new BInteger(1));
        Assert.True(TorrentMetainfo.Parse(Torrent(info)).IsPrivate);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-16384)]
    [InlineData(8192)]
    [InlineData(20000)]
    [InlineData(536870912)]
    public void Parse_BadPieceLength_Throws(int pieceLength)
    {
        var info = SingleFileInfo();
        info["piece length"] = new BInteger(pieceLength);
        Assert.Contains("Piece length", Fails(Torrent(info)).Message);
    }

    [Fact]
    public void Parse_PieceCountMismatch_Throws()
    {
        var info = SingleFileInfo(length: 40000);
        info["pieces"] = new BString(new byte[40]);
        Assert.Contains("hashes", Fails(Torrent(info)).Message);
    }

    [Fact]
    public void Parse_PiecesNotMultipleOf20_Throws()
    {
        var info = SingleFileInfo(length: 40000);
        info["pieces"] = new BString(new byte[61]);
        Assert.Contains("multiple of 20", Fails(Torrent(info)).Message);
    }

    [Fact]
    public void Parse_NegativeLength_Throws()
    {
        var info = MultiFileInfo("x", 16384, (["a"], 20000), (["b"], -1));
        Assert.Contains("negative", Fails(Torrent(info)).Message);
    }

    [Fact]
    public void Parse_EmptyFiles_Throws() => Assert.Contains("empty", Fails(Torrent(MultiFileInfo("x", 16384))).Message);

    [Fact]
    public void Parse_ZeroTotal_Throws() => Fails(Torrent(SingleFileInfo(length: 0)));

    [Fact]
    public void Parse_NoInfo_Throws() => Assert.Contains("'info'", Fails(new BDictionary { { "announce", new BString("x") } }.Encode()).Message);

    [Fact]
    public void Parse_MalformedBencode_WrapsOffset()
    {
        var bytes = Torrent(SingleFileInfo());
        var ex = Fails(bytes[..^5]);
        var inner = Assert.IsType<BencodeException>(ex.InnerException);
        Assert.Contains($"byte {inner.Offset}", ex.Message);
    }

    [Fact]
    public void Parse_UnsortedInfoDictionary_Throws()
    {
        var bytes = Encoding.Latin1.GetBytes("d4:infod6:lengthi5e4:name1:x12:piece lengthi16384e6:pieces20:" + new string('a', 20) + "ee");
        Assert.NotNull(TorrentMetainfo.Parse(bytes));
        var unsorted = Encoding.Latin1.GetBytes("d4:infod4:name1:x6:lengthi5e12:piece lengthi16384e6:pieces20:" + new string('a', 20) + "ee");
        Assert.Contains("not sorted", Fails(unsorted).Message);
    }

    [Fact]
    public void Parse_UnsortedOuterDictionary_Accepted()
    {
        var info = Encoding.Latin1.GetString(SingleFileInfo().Encode());
        var bytes = Encoding.Latin1.GetBytes("d4:info" + info + "8:announce3:urle");
        Assert.NotNull(TorrentMetainfo.Parse(bytes));
    }

    [Fact]
    public void Parse_Hybrid_LoadsV1PartWithPadding()
    {
        var info = MultiFileInfo("hy", 16384, (["a.bin"], 10000), ([".pad", "6384"], 6384), (["b.bin"], 100));
        ((BDictionary)((BList)info["files"])[1]).Add("attr", new BString("p"));
        info.Add("meta version", new BInteger(2));
        info.Add("file tree", new BDictionary { { "a.bin", new BDictionary { { "", new BDictionary { { "length", new BInteger(10000) } } } } } });
        var m = TorrentMetainfo.Parse(Torrent(info));
        Assert.True(m.IsHybrid);
        Assert.Equal([false, true, false], m.Files.Select(f => f.IsPadding));
        Assert.Equal(16484, m.TotalLength);
    }

    [Fact]
    public void Parse_V2Only_ThrowsClearly()
    {
        var info = new BDictionary
        {
            { "name", new BString("x") },
            { "meta version", new BInteger(2) },
            { "piece length", new BInteger(16384) },
            { "file tree", new BDictionary() },
        };
        Assert.Contains("v2-only", Fails(Torrent(info)).Message);
    }

    [Fact]
    public void Parse_HostileNames_AllPathsStayUnderRoot()
    {
        var info = MultiFileInfo(
            "..",
            16384,
            (["..", "..", "etc", "passwd"], 1),
            (["/abs"], 1),
            (["C:\\Windows", "system32"], 1),
            (["CON"], 1),
            (["a\0b", "x/y"], 1),
            ([], 1),
            (["", ".", "trailing. "], 1),
            ([new string('x', 400)], 1),
            (["dup"], 1),
            (["DUP"], 1));
        var m = TorrentMetainfo.Parse(Torrent(info));
        var root = Path.Combine(Path.GetTempPath(), "te-hostile");
        Assert.Equal("_", m.Name);
        foreach (var f in m.Files)
        {
            var full = PathSanitizer.ResolveUnderRoot(root, f.Path);
            Assert.StartsWith(Path.GetFullPath(root) + Path.DirectorySeparatorChar, full);
            Assert.All(f.PathSegments, s => Assert.DoesNotContain(s, new[] { "", ".", ".." }));
        }

        Assert.Equal("_/_/_/etc/passwd", m.Files[0].Path);
        Assert.Equal("_/_CON", m.Files[3].Path);
        Assert.Equal(m.Files.Count, m.Files.Select(f => f.Path.ToUpperInvariant()).Distinct().Count());
    }

    [Fact]
    public void Parse_Utf8NameKey_Preferred()
    {
        var info = SingleFileInfo("ascii");
        info.Add("name.utf-8", new BString("ünï"));
        Assert.Equal("ünï", TorrentMetainfo.Parse(Torrent(info)).Name);
    }

    [Fact]
    public void FromInfoDictionary_SameBytes_SameHashAsParse()
    {
        var info = SingleFileInfo();
        var parsed = TorrentMetainfo.Parse(Torrent(info));
        var fromPeers = TorrentMetainfo.FromInfoDictionary(info.Encode(), [["udp://t:1/announce"]]);
        Assert.Equal(parsed.InfoHash, fromPeers.InfoHash);
        Assert.Equal(["udp://t:1/announce"], fromPeers.AnnounceTiers[0]);
        Assert.Equal(parsed.TotalLength, fromPeers.TotalLength);
    }

    [Fact]
    public void FromInfoDictionary_TrailingGarbage_Throws()
    {
        byte[] bytes = [.. SingleFileInfo().Encode(), (byte)'x'];
        Assert.Throws<MetainfoException>(() => TorrentMetainfo.FromInfoDictionary(bytes, []));
    }
}
