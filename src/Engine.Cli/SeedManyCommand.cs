using System.Diagnostics;
using System.Globalization;
using System.Net;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Cli;

/// <summary>
/// <c>seed-many &lt;DIR-of-torrents&gt; &lt;ROOT&gt;</c>: every .torrent in a folder loaded into one engine and seeded
/// from ROOT (scale benchmark: start-up time from resume data, memory, many incoming connections).
/// </summary>
internal static class SeedManyCommand
{
    public static async Task<int> RunAsync(CliOptions o, TextWriter output, CancellationToken ct)
    {
        var folder = o.Positional.ElementAtOrDefault(0) ?? throw new FormatException("seed-many needs a folder of .torrent files");
        var root = Path.GetFullPath(o.Positional.ElementAtOrDefault(1) ?? throw new FormatException("seed-many needs the data root"));
        var files = Directory.GetFiles(folder, "*.torrent");
        Array.Sort(files, StringComparer.Ordinal);
        var connections = o.MaxConnections ?? 2000;
        var sw = Stopwatch.StartNew();
        var bind = o.Bind ?? IPAddress.Any;
        await using var engine = new ClientEngine(new EngineOptions
        {
            ListenEndPoint = new IPEndPoint(bind, o.Port ?? 0),
            DownloadDirectory = root,
            ResumeDirectory = o.Resume ?? Path.Combine(root, ".torrentedge"),
            MaxConnections = connections,
            MaxConnectionsPerTorrent = connections,
            // An engine sized for thousands of peers takes their handshakes in bursts: the default cap of 64 waiting
            // handshakes closed 19 of 1,000 connections that arrived 128 at a time (benchmarks/run.sh --cases scale).
            MaxPendingIncomingConnections = Math.Max(64, connections / 4),
            SeedsDialPeers = false,
            UploadRateLimit = o.UploadLimit,
            Encryption = o.Encryption,
            // Only with --dht-bootstrap (the memory of 1,000 torrents in a DHT); without it the scale figures stay comparable.
            Dht = o.DhtBootstrap.Count > 0 ? o.Dht(bind) : null,
        });
        await engine.StartAsync(ct).ConfigureAwait(false);
        _ = CliApp.DrainEventsAsync(engine, ct);
        output.WriteLine($"listening {engine.ListenEndPoint}");
        var torrents = new List<TorrentManager>(files.Length);
        foreach (var file in files)
            torrents.Add(await engine.AddTorrentFileAsync(file, new AddTorrentOptions { SavePath = root }, ct).ConfigureAwait(false));
        var added = sw.Elapsed.TotalSeconds;
        int seeding, errors;
        while (true)
        {
            seeding = errors = 0;
            foreach (var t in torrents)
            {
                var state = t.Status.State;
                if (state is TorrentState.Seeding or TorrentState.Finished) seeding++;
                else if (state == TorrentState.Error) errors++;
            }
            if (seeding + errors == torrents.Count) break;
            try
            {
                await Task.Delay(10, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopped or timed out before every torrent seeded: say where they are.
                var states = torrents.GroupBy(t => t.Status.State).Select(g => $"{g.Key} {g.Count()}");
                output.WriteLine($"not all seeding after {sw.Elapsed.TotalSeconds:0.0} s: {string.Join(", ", states)}");
                throw;
            }
        }
        var ready = sw.Elapsed.TotalSeconds;
        // Let the start-up garbage go before measuring what an idle engine holds.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seeding {seeding} of {torrents.Count} torrents ({errors} errors): added in {added:0.000} s, all seeding after {ready:0.000} s"));
        output.WriteLine(new JsonLine("seed-many").Add("torrents", torrents.Count).Add("seeding", seeding).Add("errors", errors)
            .Add("added_s", added).Add("ready_s", ready).Add("managed_heap_mib", GC.GetTotalMemory(false) / (1024.0 * 1024.0))
            .AddResources().ToString());
        var until = o.Duration is { } d ? sw.Elapsed + d : TimeSpan.MaxValue;
        var last = -1;
        while (!ct.IsCancellationRequested && sw.Elapsed < until)
        {
            try
            {
                await Task.Delay(250, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            var peers = 0;
            foreach (var t in torrents) peers += t.Status.Peers;
            if (peers != last && !o.Quiet) output.WriteLine($"peers {peers}");
            last = peers;
        }
        var end = new JsonLine("seed-many-end").Add("peers", last);
        if (engine.Dht is { } dht) end.Add("dht_nodes", dht.NodeCount);
        output.WriteLine(end.AddResources().ToString());
        return 0;
    }
}
