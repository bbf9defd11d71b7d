using System.Security.Cryptography;
using TorrentEdge.Engine.Bencoding;

namespace TorrentEdge.Engine.Tests.Metainfo;

/// <summary>Crafts .torrent files with our own encoder.</summary>
internal static class TestTorrents
{
    public static BDictionary SingleFileInfo(string name = "file.bin", long length = 40000, int pieceLength = 16384)
    {
        var pieces = (int)((length + pieceLength - 1) / pieceLength);
        return new BDictionary
        {
            { "name", new BString(name) },
            { "length", new BInteger(length) },
            { "piece length", new BInteger(pieceLength) },
            { "pieces", new BString(new byte[pieces * 20]) },
        };
    }

    public static BDictionary MultiFileInfo(string name, int pieceLength, params (string[] Path, long Length)[] files)
    {
        var list = new BList();
        long total = 0;
        foreach (var (path, length) in files)
        {
            list.Add(new BDictionary { { "length", new BInteger(length) }, { "path", new BList(path.Select(p => (BValue)new BString(p))) } });
            total += length;
        }

        var pieces = (int)((total + pieceLength - 1) / pieceLength);
        return new BDictionary
        {
            { "name", new BString(name) },
            { "files", list },
            { "piece length", new BInteger(pieceLength) },
            { "pieces", new BString(new byte[pieces * 20]) },
        };
    }

    public static byte[] Torrent(BDictionary info, string? announce = "http://tracker.example/announce", BValue? announceList = null)
    {
        var root = new BDictionary { { "info", info } };
        if (announce is not null) root.Add("announce", new BString(announce));
        if (announceList is not null) root.Add("announce-list", announceList);
        return root.Encode();
    }

    public static byte[] Sha1(byte[] data) => SHA1.HashData(data);
}
