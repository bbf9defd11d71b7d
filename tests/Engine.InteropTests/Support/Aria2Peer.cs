using System.Globalization;

namespace TorrentEdge.Engine.InteropTests.Support;

/// <summary>
/// aria2c 1.36 downloading (or seeding) one torrent on 127.0.0.1. It cannot dial a given peer, so it
/// finds peers through an HTTP tracker (it cannot use UDP trackers with its DHT off) or is dialled
/// on <see cref="Port"/>.
/// </summary>
public sealed class Aria2Peer : IAsyncDisposable
{
    public const string Program = "/usr/bin/aria2c";
    private readonly ExternalProcess _process;

    private Aria2Peer(ExternalProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public int ProcessId => _process.Id;

    public string Endpoint => $"127.0.0.1:{Port}";

    public string Log => _process.Tail();

    public static bool IsAvailable => File.Exists(Program);

    /// <summary>Starts a download of <paramref name="torrentPath"/> into <paramref name="directory"/>; it exits when done (seed time 0).</summary>
    public static Aria2Peer StartDownload(string torrentPath, string directory, int? port = null) =>
        Start(torrentPath, directory, seed: false, port);

    /// <summary>Seeds <paramref name="torrentPath"/> from <paramref name="directory"/> after checking the files.</summary>
    public static Aria2Peer StartSeed(string torrentPath, string directory, int? port = null) =>
        Start(torrentPath, directory, seed: true, port);

    private static Aria2Peer Start(string torrentPath, string directory, bool seed, int? port)
    {
        var p = port ?? Ports.FreeTcpAndUdpPort();
        Directory.CreateDirectory(directory);
        var args = new List<string>
        {
            "--dir=" + directory,
            "--file-allocation=none",
            "--enable-dht=false",
            "--enable-dht6=false",
            "--bt-enable-lpd=false",
            "--enable-peer-exchange=false",
            "--disable-ipv6=true",
            "--interface=127.0.0.1",
            "--listen-port=" + p.ToString(CultureInfo.InvariantCulture),
            "--allow-overwrite=true",
            "--auto-file-renaming=false",
            "--summary-interval=1",
            "--console-log-level=notice",
            "--bt-stop-timeout=0",
            "--check-certificate=false",
            "--enable-color=false",
            "--show-console-readout=false",
        };
        if (seed)
        {
            args.Add("--check-integrity=true");
            args.Add("--seed-ratio=0.0");
            args.Add("--bt-seed-unverified=false");
        }
        else
        {
            args.Add("--seed-time=0");
        }
        args.Add(torrentPath);
        return new Aria2Peer(ExternalProcess.Start(Program, args), p);
    }

    /// <summary>Waits for a download to end; aria2 exits 0 when every file is complete and verified.</summary>
    public Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        _process.WaitForExitAsync(timeout, cancellationToken);

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
