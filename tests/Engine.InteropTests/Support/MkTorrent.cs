namespace TorrentEdge.Engine.InteropTests.Support;

/// <summary>Debian's mktorrent: plain v1 torrents whose pieces straddle files (libtorrent 2.0 would pad them).</summary>
public static class MkTorrent
{
    public const string Program = "/usr/bin/mktorrent";

    /// <summary>Creates <paramref name="torrentPath"/> for <paramref name="contentPath"/>; piece length 2^<paramref name="pieceLengthLog2"/>.</summary>
    public static async Task CreateAsync(string contentPath, string torrentPath, IReadOnlyList<string> announceUrls,
        int pieceLengthLog2, CancellationToken cancellationToken)
    {
        var args = new List<string> { "-l", pieceLengthLog2.ToString(System.Globalization.CultureInfo.InvariantCulture), "-d", "-t", "1", "-o", torrentPath };
        // mktorrent 1.1 insists on at least one announce URL; an unreachable one stands in when a test gives peers directly.
        var urls = announceUrls.Count > 0 ? announceUrls : ["http://127.0.0.1:1/announce"];
        foreach (var url in urls) { args.Add("-a"); args.Add(url); }
        args.Add(contentPath);
        await using var p = ExternalProcess.Start(Program, args);
        var code = await p.WaitForExitAsync(TimeSpan.FromSeconds(60), cancellationToken);
        if (code != 0 || !File.Exists(torrentPath))
            throw new InvalidOperationException($"mktorrent failed ({code}): {p.Log}");
    }
}
