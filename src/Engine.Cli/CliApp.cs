using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using TorrentEdge.Engine.Creation;
using TorrentEdge.Engine.Magnet;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Cli;

/// <summary>
/// The engine on the command line: download, seed, create. Progress goes to stdout once a second as
/// plain lines (so scripts and tests can read them), then a summary.
/// </summary>
public static class CliApp
{
    public const string Usage = """
        usage:
          torrentedge-cli download <file.torrent|magnet> --out DIR [options]
          torrentedge-cli seed <file.torrent> <DIR> [options]
          torrentedge-cli create <file|folder> --tracker URL [--tracker URL ...] --out FILE.torrent [--piece-length BYTES] [--private]
          torrentedge-cli verify <file.torrent> <DIR> [--threads N] [--json]
              full recheck: pieces ok/bad and MiB/s; exit code 4 when a piece is missing or bad
          torrentedge-cli seed-many <DIR-of-torrents> <ROOT> [--duration SECONDS] [--max-connections N] [options]
              every .torrent in a folder seeded by one engine (scale benchmark); a DHT node only with --dht-bootstrap
          torrentedge-cli loadgen <HOST:PORT> <file.torrent> --connections N [--source-base 127.0.0.2 --sources K]
                                  [--concurrency N] [--hold SECONDS] [--json]
              opens N peer connections (handshake, bitfield, interested) and reports handshakes/s (benchmark)
        options:
          --port N            listen port (default 0: any free port)
          --bind ADDRESS      listen address (default 0.0.0.0; 127.0.0.1 for loopback only)
          --peer HOST:PORT    dial this peer (repeatable)
          --resume DIR        resume data folder (default DIR/.torrentedge)
          --seed              keep seeding after a download completes (until Ctrl+C)
          --super-seed        seed as an initial seeder (BEP 16): offer one piece at a time per peer
          --sequential        download pieces in order (streaming)
          --buffered-writes   write through the page cache (default: direct I/O where the file system allows)
          --timeout SECONDS   give up after this long (exit code 3)
          --upload-limit B/s  upload rate limit in bytes per second
          --download-limit B/s download rate limit in bytes per second
          --encryption POLICY prefer (default: encrypted first, plaintext fallback), require (RC4 only,
                              plaintext peers refused) or disable (plaintext only) - message stream encryption
          --dht-bootstrap HOST:PORT,...  DHT nodes to join through (download, seed); "routers" names the public
                              routers (router.bittorrent.com and others). Default: none, the node only answers
          --no-dht            no DHT node (download, seed); private torrents never use the DHT anyway
          --lsd               local service discovery (BEP 14, download, seed): announce on 239.192.152.143:6771
                              on the --bind interface and take peers announced there. Off by default (--no-lsd):
                              its multicast leaves this machine. Private torrents never use it
          --quiet             no progress lines, only the summary
          --verbose           tracker status with each progress line
          --json              also print a final JSON line (times from process start, CPU, peak RSS)
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            output.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        CliOptions options;
        try
        {
            options = CliOptions.Parse(args);
        }
        catch (FormatException e)
        {
            error.WriteLine("error: " + e.Message);
            error.WriteLine(Usage);
            return 2;
        }
        using var cts = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cts.Cancel();
        };
        // SIGTERM (how scripts and the benchmark stop us) ends like Ctrl+C: resume data saved, files closed.
        var stopped = false;
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stopped = true;
            cts.Cancel();
        });
        if (options.Timeout is { } timeout) cts.CancelAfter(timeout);
        try
        {
            return options.Command switch
            {
                "create" => await CreateAsync(options, output, cts.Token).ConfigureAwait(false),
                "download" or "seed" => await TransferAsync(options, output, cts.Token).ConfigureAwait(false),
                "verify" => await VerifyCommand.RunAsync(options, output, cts.Token).ConfigureAwait(false),
                "seed-many" => await SeedManyCommand.RunAsync(options, output, cts.Token).ConfigureAwait(false),
                "loadgen" => await LoadGenCommand.RunAsync(options, output, cts.Token).ConfigureAwait(false),
                _ => throw new FormatException($"unknown command '{options.Command}'"),
            };
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested && (stopped || options.Timeout is null))
        {
            error.WriteLine("stopped");
            return 130;
        }
        catch (OperationCanceledException) when (options.Timeout is not null && cts.IsCancellationRequested)
        {
            error.WriteLine("error: timed out");
            return 3;
        }
        catch (Exception e) when (e is IOException or Metainfo.MetainfoException or FormatException or UnauthorizedAccessException)
        {
            error.WriteLine("error: " + e.Message);
            return 1;
        }
    }

    private static async Task<int> CreateAsync(CliOptions o, TextWriter output, CancellationToken ct)
    {
        var path = o.Positional.ElementAtOrDefault(0) ?? throw new FormatException("create needs a file or folder");
        var target = o.Out ?? throw new FormatException("create needs --out FILE.torrent");
        var sw = Stopwatch.StartNew();
        var bytes = await TorrentCreator.CreateAsync(path, new TorrentCreatorOptions
        {
            AnnounceTiers = [.. o.Trackers.Select(t => (IReadOnlyList<string>)[t])],
            PieceLength = o.PieceLength,
            IsPrivate = o.Private,
        }, ct).ConfigureAwait(false);
        await File.WriteAllBytesAsync(target, bytes, ct).ConfigureAwait(false);
        var meta = Metainfo.TorrentMetainfo.Parse(bytes);
        output.WriteLine($"created {target}: {meta.Name}, {Size(meta.TotalLength)} in {meta.PieceCount} pieces of {Size(meta.PieceLength)}, info-hash {meta.InfoHash.ToHex()} ({sw.Elapsed.TotalSeconds:0.00} s)");
        output.WriteLine($"magnet:?xt=urn:btih:{meta.InfoHash.ToHex()}&dn={Uri.EscapeDataString(meta.Name)}");
        return 0;
    }

    private static async Task<int> TransferAsync(CliOptions o, TextWriter output, CancellationToken ct)
    {
        var source = o.Positional.ElementAtOrDefault(0) ?? throw new FormatException($"{o.Command} needs a .torrent or magnet");
        var seeding = o.Command == "seed";
        var dir = seeding ? o.Positional.ElementAtOrDefault(1) ?? o.Out : o.Out;
        if (dir is null) throw new FormatException(seeding ? "seed needs the data folder" : "download needs --out DIR");
        dir = Path.GetFullPath(dir);
        using var probe = new FirstDataProbe();
        var listen = new IPEndPoint(o.Bind ?? IPAddress.Any, o.Port ?? 0);
        await using var engine = new ClientEngine(new EngineOptions
        {
            ListenEndPoint = listen,
            DownloadDirectory = dir,
            ResumeDirectory = o.Resume ?? Path.Combine(dir, ".torrentedge"),
            UploadRateLimit = o.UploadLimit,
            DownloadRateLimit = o.DownloadLimit,
            DirectWrites = !o.BufferedWrites,
            Encryption = o.Encryption,
            Dht = o.Dht(listen.Address),
            LocalDiscovery = o.LocalDiscovery(listen.Address),
        });
        await engine.StartAsync(ct).ConfigureAwait(false);
        _ = DrainEventsAsync(engine, ct);
        output.WriteLine($"listening {engine.ListenEndPoint}");
        if (engine.LocalDiscovery is { } lsd) output.WriteLine($"local discovery on {o.LocalDiscovery(listen.Address)!.Group} (cookie {lsd.Cookie})");
        if (engine.LocalDiscoveryProblem is { } lsdProblem) output.WriteLine($"warning: {lsdProblem}");
        var add = new AddTorrentOptions { SavePath = dir, Peers = o.Peers, SuperSeed = o.SuperSeed, Sequential = o.Sequential };
        TorrentManager torrent = source.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase)
            ? await engine.AddMagnetAsync(MagnetLink.Parse(source), add, ct).ConfigureAwait(false)
            : await engine.AddTorrentFileAsync(source, add, ct).ConfigureAwait(false);
        output.WriteLine($"added {torrent.InfoHash.ToHex()} {torrent.DisplayName}");
        var sw = Stopwatch.StartNew();
        var startDone = -1L;
        TimeSpan? finishedAt = null;
        var lastLine = TimeSpan.Zero;
        while (!ct.IsCancellationRequested)
        {
            var s = torrent.Status;
            if (startDone < 0 && s.State is TorrentState.Downloading or TorrentState.Seeding or TorrentState.Finished) startDone = s.BytesDone;
            if (s.State == TorrentState.Error)
            {
                output.WriteLine($"error: {s.Error}");
                return 1;
            }
            if (!o.Quiet && sw.Elapsed - lastLine >= TimeSpan.FromSeconds(1))
            {
                lastLine = sw.Elapsed;
                output.WriteLine(ProgressLine(s));
                if (o.Verbose)
                    foreach (var tr in torrent.TrackerStatus)
                        output.WriteLine($"  tracker {tr.Url} {tr.Health} peers {tr.PeersReceived} {tr.LastError}");
            }
            var complete = s.State is TorrentState.Seeding or TorrentState.Finished;
            if (complete && finishedAt is null)
            {
                finishedAt = sw.Elapsed;
                if (!seeding)
                {
                    var got = Math.Max(0, s.BytesDone - Math.Max(0, startDone));
                    var secs = Math.Max(finishedAt.Value.TotalSeconds, 1e-3);
                    output.WriteLine($"completed {torrent.DisplayName}: {Size(s.BytesDone)} ({Size(got)} new) in {secs:0.00} s, average {Size((long)(got / secs))}/s, {s.HashFailures} hash failures");
                    output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"summary bytes_done={s.BytesDone} bytes_new={got} bytes_at_start={Math.Max(0, startDone)} seconds={secs:0.000} hash_failures={s.HashFailures} first_block_s={probe.FirstBlockSeconds ?? -1:0.000} first_piece_s={probe.FirstPieceSeconds ?? -1:0.000}"));
                    if (o.Json)
                    {
                        output.WriteLine(new JsonLine("download").Add("bytes_done", s.BytesDone).Add("bytes_new", got)
                            .Add("bytes_at_start", Math.Max(0, startDone)).Add("seconds", secs).Add("process_seconds", probe.Now)
                            .Add("first_block_s", probe.FirstBlockSeconds).Add("first_piece_s", probe.FirstPieceSeconds)
                            .Add("hash_failures", s.HashFailures).AddResources().ToString());
                    }
                    if (!o.SeedAfter) break;
                }
                else
                {
                    output.WriteLine($"seeding {torrent.DisplayName}: {Size(s.BytesDone)} verified{(torrent.SuperSeed ? " (super-seeding)" : "")}");
                }
            }
            try
            {
                await Task.Delay(25, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        var end = torrent.Status;
        if (seeding || o.SeedAfter)
            output.WriteLine($"stopped: uploaded {Size(end.Uploaded)} in {sw.Elapsed.TotalSeconds:0.00} s");
        if (!seeding && finishedAt is null)
        {
            if (o.Timeout is not null && ct.IsCancellationRequested) throw new OperationCanceledException(ct);
            return 1;
        }
        return 0;
    }

    /// <summary>
    /// Reads and drops the engine's events: its event channel is unbounded, so a host that never reads it keeps
    /// every event (with 1,000 torrents, each add's queue event lists them all: tens of MiB).
    /// </summary>
    internal static async Task DrainEventsAsync(ClientEngine engine, CancellationToken ct)
    {
        try
        {
            await foreach (var _ in engine.ReadEventsAsync(ct).ConfigureAwait(false))
            {
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static string ProgressLine(TorrentStatus s)
    {
        const int width = 30;
        var filled = (int)Math.Round(s.Progress * width);
        return string.Create(CultureInfo.InvariantCulture,
            $"[{new string('#', filled)}{new string('.', width - filled)}] {s.Progress * 100,6:0.0}% {s.State} {Size(s.BytesDone)}/{Size(s.BytesWanted)} down {Size(s.DownloadRate)}/s up {Size(s.UploadRate)}/s peers {s.Peers} (encrypted {s.EncryptedPeers}) done={s.BytesDone}");
    }

    internal static string Size(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double v = bytes;
        var u = 0;
        while (v >= 1024 && u < units.Length - 1)
        {
            v /= 1024;
            u++;
        }
        return u == 0 ? bytes.ToString(CultureInfo.InvariantCulture) + " B" : v.ToString("0.0", CultureInfo.InvariantCulture) + " " + units[u];
    }
}
