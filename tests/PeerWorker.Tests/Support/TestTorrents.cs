using TorrentEdge.Contracts.Torrents;
using TorrentEdge.Engine.Creation;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.PeerWorker.Tests.Support;

/// <summary>Small real .torrent files and specs for them.</summary>
internal static class TestTorrents
{
    /// <summary>A single-file torrent of a few random bytes, made in a temporary folder (no trackers).</summary>
    public static async Task<(string InfoHash, byte[] Metainfo)> CreateAsync(string folder, string name, int size = 40_000)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name);
        var content = new byte[size];
        Random.Shared.NextBytes(content);
        await File.WriteAllBytesAsync(path, content);
        var bytes = await TorrentCreator.CreateAsync(path, new TorrentCreatorOptions { PieceLength = 16 * 1024 });
        return (TorrentMetainfo.Parse(bytes).InfoHash.ToHex(), bytes);
    }

    public static TorrentSpecChanged Spec(
        string infoHash,
        long revision = 1,
        byte[]? metainfo = null,
        bool metainfoAvailable = false,
        string? magnet = null,
        bool paused = false,
        TorrentPriority priority = TorrentPriority.Normal,
        IReadOnlyList<FilePriority>? files = null,
        int recheck = 0,
        bool removed = false,
        bool deleteData = false,
        string owner = "user-1")
        => new(infoHash, revision, "name-" + infoHash[..6], metainfo, metainfoAvailable || metainfo is not null, magnet, null, paused, priority,
            files ?? [], [owner], recheck, removed, deleteData);

    /// <summary>A fake 40-hex info-hash from a number.</summary>
    public static string Hash(int n) => n.ToString("x40", System.Globalization.CultureInfo.InvariantCulture);
}
