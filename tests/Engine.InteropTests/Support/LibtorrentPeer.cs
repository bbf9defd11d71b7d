using System.Globalization;
using System.Text.Json;

namespace TorrentEdge.Engine.InteropTests.Support;

/// <summary>Options for a libtorrent peer (see lt_peer.py).</summary>
public sealed record LibtorrentOptions
{
    public required bool Seed { get; init; }
    public string? TorrentPath { get; init; }
    public string? Magnet { get; init; }
    public required string SavePath { get; init; }
    public int Port { get; init; }
    public IReadOnlyList<string> Peers { get; init; } = [];
    /// <summary>Trust the files without checking: with altered files this is a corrupt seeder.</summary>
    public bool SeedMode { get; init; }
    public int UploadLimit { get; init; }
    public int DownloadLimit { get; init; }
    public TimeSpan MaxLifetime { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>"forced" (RC4 only, in and out) or "disabled" (plaintext only); null: lt_peer.py's default.</summary>
    public string? Encryption { get; init; }
    /// <summary>Loopback address to listen and dial from (libtorrent's DHT wants one node per address).</summary>
    public string Address { get; init; } = "127.0.0.1";
    /// <summary>DHT nodes (HOST:PORT) to join through; non-empty turns libtorrent's DHT on, with its loopback guards relaxed.</summary>
    public IReadOnlyList<string> DhtBootstrap { get; init; } = [];
    /// <summary>Print the connected peers with libtorrent's source flags after each status line (see <see cref="LibtorrentPeer.WaitForPeerAsync"/>).</summary>
    public bool ReportPeers { get; init; }
    /// <summary>Keep connections between seeds (libtorrent closes them by default), so a seed passes another on in PEX.</summary>
    public bool KeepSeedConnections { get; init; }
    /// <summary>A seed that dials nobody: every connection it has, the other side made.</summary>
    public bool NoSeedingDials { get; init; }
}

/// <summary>
/// libtorrent-rasterbar 2.0.8 in a Python process (Debian's python3-libtorrent, /usr/bin/python3 only),
/// seeding or downloading one torrent on 127.0.0.1 and reporting JSON lines.
/// </summary>
public sealed class LibtorrentPeer : IAsyncDisposable
{
    public const string Python = "/usr/bin/python3";
    private readonly ExternalProcess _process;

    private LibtorrentPeer(ExternalProcess process, int port, string address)
    {
        _process = process;
        Port = port;
        Address = address;
    }

    public string Address { get; }

    public int Port { get; }

    public int ProcessId => _process.Id;

    public string Endpoint => $"{Address}:{Port}";

    public string Log => _process.Tail();

    public static string ScriptPath => Path.Combine(AppContext.BaseDirectory, "Support", "lt_peer.py");

    public static bool IsAvailable => File.Exists(Python) && RunsImport();

    private static bool? s_available;

    private static bool RunsImport()
    {
        if (s_available is { } known) return known;
        try
        {
            using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(Python, ["-c", "import libtorrent"])
            { RedirectStandardError = true, RedirectStandardOutput = true });
            if (p is null) return (bool)(s_available = false);
            if (!p.WaitForExit(20_000)) { p.Kill(); return (bool)(s_available = false); }
            return (bool)(s_available = p.ExitCode == 0);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return (bool)(s_available = false);
        }
    }

    public static async Task<LibtorrentPeer> StartAsync(LibtorrentOptions options, CancellationToken cancellationToken)
    {
        var args = new List<string>
        {
            "-u", ScriptPath,
            "--mode", options.Seed ? "seed" : "download",
            "--save", options.SavePath,
            "--port", options.Port.ToString(CultureInfo.InvariantCulture),
            "--max-seconds", options.MaxLifetime.TotalSeconds.ToString(CultureInfo.InvariantCulture),
        };
        if (options.TorrentPath is not null) { args.Add("--torrent"); args.Add(options.TorrentPath); }
        if (options.Magnet is not null) { args.Add("--magnet"); args.Add(options.Magnet); }
        foreach (var peer in options.Peers) { args.Add("--peer"); args.Add(peer); }
        if (options.SeedMode) args.Add("--seed-mode");
        if (options.Encryption is not null) { args.Add("--enc"); args.Add(options.Encryption); }
        if (options.Address != "127.0.0.1") { args.Add("--address"); args.Add(options.Address); }
        if (options.ReportPeers) args.Add("--report-peers");
        if (options.KeepSeedConnections) args.Add("--keep-seed-connections");
        if (options.NoSeedingDials) args.Add("--no-seeding-dials");
        foreach (var node in options.DhtBootstrap) { args.Add("--dht-bootstrap"); args.Add(node); }
        if (options.UploadLimit > 0) { args.Add("--upload-limit"); args.Add(options.UploadLimit.ToString(CultureInfo.InvariantCulture)); }
        if (options.DownloadLimit > 0) { args.Add("--download-limit"); args.Add(options.DownloadLimit.ToString(CultureInfo.InvariantCulture)); }
        Directory.CreateDirectory(options.SavePath);
        var process = ExternalProcess.Start(Python, args);
        try
        {
            var line = await process.WaitForLineAsync(l => Event(l) == "listening", TimeSpan.FromSeconds(30), cancellationToken);
            using var doc = JsonDocument.Parse(line);
            var port = doc.RootElement.GetProperty("port").GetInt32();
            if (port == 0) throw new InvalidOperationException("libtorrent did not listen: " + process.Tail());
            return new LibtorrentPeer(process, port, options.Address);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>Waits for a status line satisfying <paramref name="match"/> and returns it.</summary>
    public async Task<JsonElement> WaitForStatusAsync(Func<JsonElement, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var line = await _process.WaitForLineAsync(l =>
        {
            if (Event(l) != "status") return false;
            using var doc = JsonDocument.Parse(l);
            return match(doc.RootElement);
        }, timeout, cancellationToken);
        using var d = JsonDocument.Parse(line);
        return d.RootElement.Clone();
    }

    /// <summary>libtorrent's peer_info source flag for a peer learnt through PEX.</summary>
    public const int SourcePex = 4;

    /// <summary>
    /// Waits (needs <see cref="LibtorrentOptions.ReportPeers"/>) until libtorrent is connected to a peer on
    /// <paramref name="port"/> and returns libtorrent's source flags for it.
    /// </summary>
    public async Task<int> WaitForPeerAsync(int port, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var source = 0;
        await _process.WaitForLineAsync(l =>
        {
            if (Event(l) != "peers") return false;
            using var doc = JsonDocument.Parse(l);
            foreach (var peer in doc.RootElement.GetProperty("peers").EnumerateArray())
            {
                if (peer.GetProperty("port").GetInt32() != port) continue;
                source = peer.GetProperty("source").GetInt32();
                return true;
            }
            return false;
        }, timeout, cancellationToken);
        return source;
    }

    /// <summary>Waits until a seeder has checked its files and is seeding.</summary>
    public Task WaitForSeedingAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        WaitForStatusAsync(s => s.GetProperty("seeding").GetBoolean(), timeout, cancellationToken);

    /// <summary>Waits for the "finished" line (every wanted piece downloaded and verified).</summary>
    public Task WaitForFinishedAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        _process.WaitForLineAsync(l => Event(l) == "finished", timeout, cancellationToken);

    public Task WaitForEventAsync(string name, TimeSpan timeout, CancellationToken cancellationToken) =>
        _process.WaitForLineAsync(l => Event(l) == name, timeout, cancellationToken);

    /// <summary>Waits for an alert of the given type (for example "tracker_reply_alert").</summary>
    public Task WaitForAlertAsync(string alertType, TimeSpan timeout, CancellationToken cancellationToken) =>
        _process.WaitForLineAsync(l => Event(l) == "alert" && l.Contains($"\"{alertType}\"", StringComparison.Ordinal), timeout, cancellationToken);

    /// <summary>Waits for any output line matching <paramref name="match"/> (alerts carry libtorrent's own message).</summary>
    public Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken cancellationToken) =>
        _process.WaitForLineAsync(match, timeout, cancellationToken);

    private static string? Event(string line)
    {
        if (!line.StartsWith('{')) return null;
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.TryGetProperty("event", out var e) ? e.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
