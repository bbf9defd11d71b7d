using System.Diagnostics;
using System.Globalization;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Storage;

namespace TorrentEdge.Engine.Cli;

/// <summary><c>verify &lt;file.torrent&gt; &lt;DIR&gt;</c>: a full recheck of the data under DIR, with pieces ok/bad and the rate.</summary>
internal static class VerifyCommand
{
    /// <summary>Exit code when some piece is missing or does not match.</summary>
    public const int Incomplete = 4;

    public static async Task<int> RunAsync(CliOptions o, TextWriter output, CancellationToken ct)
    {
        var source = o.Positional.ElementAtOrDefault(0) ?? throw new FormatException("verify needs a .torrent file");
        var dir = o.Positional.ElementAtOrDefault(1) ?? o.Out ?? throw new FormatException("verify needs the data folder");
        var meta = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(source, ct).ConfigureAwait(false));
        var threads = o.Threads ?? Environment.ProcessorCount;
        var sw = Stopwatch.StartNew();
        await using var storage = new TorrentStorage(StorageLayout.FromMetainfo(meta), Path.GetFullPath(dir));
        var have = await storage.RecheckAsync(null, threads, ct).ConfigureAwait(false);
        var seconds = Math.Max(sw.Elapsed.TotalSeconds, 1e-6);
        var ok = have.TrueCount;
        var bad = meta.PieceCount - ok;
        var mibps = meta.TotalLength / (1024.0 * 1024.0) / seconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"verified {meta.Name}: pieces ok={ok} bad={bad} of {meta.PieceCount}, {CliApp.Size(meta.TotalLength)} in {seconds:0.000} s, {mibps:0.0} MiB/s, threads={threads}"));
        if (o.Json)
        {
            output.WriteLine(new JsonLine("verify").Add("pieces", meta.PieceCount).Add("pieces_ok", ok).Add("pieces_bad", bad)
                .Add("bytes", meta.TotalLength).Add("seconds", seconds).Add("mib_per_s", mibps).Add("threads", threads)
                .AddResources().ToString());
        }
        return bad == 0 ? 0 : Incomplete;
    }
}
