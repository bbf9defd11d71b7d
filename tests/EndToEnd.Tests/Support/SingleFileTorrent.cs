using System.Security.Cryptography;
using System.Text;

namespace TorrentEdge.EndToEnd.Tests.Support;

/// <summary>
/// Plain v1 single-file torrents over one content, written directly: the piece hashes are computed once and each name
/// gives another info-hash, so many candidate torrents cost nothing (the file is copied only for those seeded).
/// </summary>
public sealed class SingleFileTorrent
{
    private readonly byte[] _pieces;

    private SingleFileTorrent(string contentPath, long length, int pieceLength, byte[] pieces)
    {
        ContentPath = contentPath;
        Length = length;
        PieceLength = pieceLength;
        _pieces = pieces;
    }

    public string ContentPath { get; }

    public long Length { get; }

    public int PieceLength { get; }

    /// <summary>Writes <paramref name="length"/> random bytes (from <paramref name="seed"/>) to <paramref name="contentPath"/> and hashes its pieces.</summary>
    public static SingleFileTorrent CreateContent(string contentPath, long length, int pieceLength, int seed)
    {
        var random = new Random(seed);
        var buffer = new byte[pieceLength];
        using var pieces = new MemoryStream();
        using (var file = new FileStream(contentPath, FileMode.Create, FileAccess.Write))
        {
            for (long left = length; left > 0;)
            {
                var n = (int)Math.Min(pieceLength, left);
                random.NextBytes(buffer.AsSpan(0, n));
                file.Write(buffer, 0, n);
                pieces.Write(SHA1.HashData(buffer.AsSpan(0, n)));
                left -= n;
            }
        }
        return new SingleFileTorrent(contentPath, length, pieceLength, pieces.ToArray());
    }

    /// <summary>The .torrent of this content under <paramref name="name"/>, announcing to <paramref name="announce"/>; returns its info-hash (hex).</summary>
    public string Write(string torrentPath, string name, Uri announce)
    {
        using var info = new MemoryStream();
        // Keys in sorted order, as bencoding requires.
        Put(info, "d");
        Put(info, Inv($"6:lengthi{Length}e"));
        Put(info, "4:name" + Str(name));
        Put(info, Inv($"12:piece lengthi{PieceLength}e"));
        Put(info, Inv($"6:pieces{_pieces.Length}:"));
        info.Write(_pieces);
        Put(info, "e");
        var infoBytes = info.ToArray();

        using var torrent = new MemoryStream();
        Put(torrent, "d8:announce" + Str(announce.ToString()) + "4:info");
        torrent.Write(infoBytes);
        Put(torrent, "e");
        File.WriteAllBytes(torrentPath, torrent.ToArray());
        return Convert.ToHexStringLower(SHA1.HashData(infoBytes));
    }

    private static string Str(string s) => Inv($"{Encoding.UTF8.GetByteCount(s)}:{s}");

    private static string Inv(FormattableString s) => FormattableString.Invariant(s);

    private static void Put(Stream stream, string ascii) => stream.Write(Encoding.UTF8.GetBytes(ascii));
}
