using System.Security.Cryptography;
using TorrentEdge.Engine.Bencoding;

namespace TorrentEdge.Engine.Benchmarks;

/// <summary>A realistic multi-file .torrent built in memory (35 files, 1 GiB in 1 MiB pieces, 20 KiB of piece hashes).</summary>
internal static class SampleTorrent
{
    public static byte[] Create(int fileCount = 35, long totalLength = 1L << 30, int pieceLength = 1 << 20)
    {
        var files = new BList();
        var rng = new Random(42);
        var remaining = totalLength;
        for (var i = 0; i < fileCount; i++)
        {
            var length = i == fileCount - 1 ? remaining : Math.Min(remaining, totalLength / fileCount + rng.Next(-4096, 4096));
            remaining -= length;
            var path = new BList { new BString($"dir{i % 5}"), new BString($"file-{i:D2}.bin") };
            files.Add(new BDictionary { { "length", new BInteger(length) }, { "path", path } });
        }
        var pieceCount = (int)((totalLength + pieceLength - 1) / pieceLength);
        var hashes = new byte[pieceCount * SHA1.HashSizeInBytes];
        rng.NextBytes(hashes);
        var info = new BDictionary
        {
            { "files", files },
            { "name", new BString("benchmark-payload") },
            { "piece length", new BInteger(pieceLength) },
            { "pieces", new BString(hashes) },
        };
        var tiers = new BList { new BList { new BString("http://tracker.example.org:6969/announce") }, new BList { new BString("udp://tracker.example.net:1337/announce") } };
        var root = new BDictionary
        {
            { "announce", new BString("http://tracker.example.org:6969/announce") },
            { "announce-list", tiers },
            { "comment", new BString("TorrentEdge benchmark") },
            { "created by", new BString("TorrentEdge") },
            { "creation date", new BInteger(1_700_000_000) },
            { "info", info },
        };
        return BencodeWriter.Encode(root);
    }
}
