using System.Security.Cryptography;
using System.Text;

namespace TorrentEdge.Catalog.Tests;

/// <summary>Small hand-bencoded .torrent files for tests.</summary>
internal static class TestTorrents
{
    public sealed record TestTorrent(byte[] Bytes, string InfoHash, string Name);

    public static TestTorrent Single(string name, long length = 40_000, int pieceLength = 16_384, string announce = "http://tracker.example/announce",
        bool isPrivate = false)
    {
        var info = new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["length"] = length,
            ["name"] = name,
            ["piece length"] = (long)pieceLength,
            ["pieces"] = Pieces(name, length, pieceLength),
        };
        if (isPrivate)
        {
            info["private"] = 1L;
        }
        return Build(info, name, announce);
    }

    public static TestTorrent Multi(string name, params (string Path, long Length)[] files) => Multi(name, "http://tracker.example/announce", files);

    public static TestTorrent Multi(string name, string announce, params (string Path, long Length)[] files)
    {
        const int pieceLength = 16_384;
        var total = files.Sum(f => f.Length);
        var info = new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["files"] = files.Select(f => (object)new SortedDictionary<string, object>(StringComparer.Ordinal)
            {
                ["length"] = f.Length,
                ["path"] = f.Path.Split('/').Select(s => (object)s).ToList(),
            }).ToList(),
            ["name"] = name,
            ["piece length"] = (long)pieceLength,
            ["pieces"] = Pieces(name, total, pieceLength),
        };
        return Build(info, name, announce);
    }

    private static byte[] Pieces(string seed, long length, int pieceLength)
    {
        var count = (int)((length + pieceLength - 1) / pieceLength);
        var pieces = new byte[count * 20];
        for (var i = 0; i < count; i++)
        {
            SHA1.HashData(Encoding.UTF8.GetBytes(seed + i), pieces.AsSpan(i * 20, 20));
        }
        return pieces;
    }

    private static TestTorrent Build(SortedDictionary<string, object> info, string name, string announce)
    {
        var infoBytes = Encode(info);
        var root = new SortedDictionary<string, object>(StringComparer.Ordinal)
        {
            ["announce"] = announce,
            ["info"] = new Raw(infoBytes),
        };
        return new TestTorrent(Encode(root), Convert.ToHexStringLower(SHA1.HashData(infoBytes)), name);
    }

    private sealed record Raw(byte[] Bytes);

    public static byte[] Encode(object value)
    {
        using var stream = new MemoryStream();
        Write(stream, value);
        return stream.ToArray();
    }

    private static void Write(MemoryStream s, object value)
    {
        switch (value)
        {
            case Raw raw:
                s.Write(raw.Bytes);
                break;
            case long n:
                s.Write(Encoding.ASCII.GetBytes($"i{n}e"));
                break;
            case string text:
                Write(s, Encoding.UTF8.GetBytes(text));
                break;
            case byte[] bytes:
                s.Write(Encoding.ASCII.GetBytes($"{bytes.Length}:"));
                s.Write(bytes);
                break;
            case List<object> list:
                s.WriteByte((byte)'l');
                list.ForEach(item => Write(s, item));
                s.WriteByte((byte)'e');
                break;
            case SortedDictionary<string, object> dict:
                s.WriteByte((byte)'d');
                foreach (var (k, v) in dict)
                {
                    Write(s, k);
                    Write(s, v);
                }
                s.WriteByte((byte)'e');
                break;
            default:
                throw new ArgumentException($"Cannot bencode {value.GetType()}");
        }
    }
}
