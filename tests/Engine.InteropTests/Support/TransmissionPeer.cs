using System.Globalization;

namespace TorrentEdge.Engine.InteropTests.Support;

/// <summary>
/// transmission-cli 3.00 with one torrent. It ignores tracker peers in 127.0.0.0/8, so it must be
/// dialled on <see cref="Port"/>; it says interested only on its 10 s rechoke tick; it never exits by
/// itself, so completion is seen through its finish script, which writes a marker file.
/// </summary>
public sealed class TransmissionPeer : IAsyncDisposable
{
    public const string Program = "/usr/bin/transmission-cli";
    private readonly ExternalProcess _process;
    private readonly string _marker;

    private TransmissionPeer(ExternalProcess process, int port, string marker)
    {
        _process = process;
        Port = port;
        _marker = marker;
    }

    public int Port { get; }

    public int ProcessId => _process.Id;

    public string Endpoint => $"127.0.0.1:{Port}";

    public string Log => _process.Tail();

    public static bool IsAvailable => File.Exists(Program);

    /// <summary>
    /// Starts transmission-cli for <paramref name="torrentPath"/> with <paramref name="directory"/> as its download folder:
    /// with the data already there it verifies and seeds, otherwise it downloads.
    /// </summary>
    /// <param name="requireEncryption">Encryption required (-er, "encryption": 2): plaintext peers are refused.</param>
    public static TransmissionPeer Start(string torrentPath, string directory, string configDirectory, int? port = null, bool requireEncryption = false)
    {
        var p = port ?? Ports.FreeTcpAndUdpPort();
        Directory.CreateDirectory(directory);
        Directory.CreateDirectory(configDirectory);
        // Loopback only, no DHT/LPD/PEX/uTP; preallocation off so partial files stay sparse.
        File.WriteAllText(Path.Combine(configDirectory, "settings.json"), $$"""
            {
              "bind-address-ipv4": "127.0.0.1",
              "bind-address-ipv6": "::1",
              "dht-enabled": false,
              "lpd-enabled": false,
              "pex-enabled": false,
              "utp-enabled": false,
              "port-forwarding-enabled": false,
              "peer-port": {{p}},
              "peer-port-random-on-start": false,
              "encryption": {{(requireEncryption ? 2 : 0)}},
              "preallocation": 0,
              "message-level": 2,
              "speed-limit-up-enabled": false,
              "speed-limit-down-enabled": false,
              "ratio-limit-enabled": false,
              "idle-seeding-limit-enabled": false
            }
            """);
        var marker = Path.Combine(configDirectory, "finished.marker");
        var script = Path.Combine(configDirectory, "on-finish.sh");
        File.WriteAllText(script, $"#!/bin/sh\ntouch '{marker}'\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var args = new List<string>
        {
            "-g", configDirectory,
            "-w", directory,
            "-p", p.ToString(CultureInfo.InvariantCulture),
            "-M", requireEncryption ? "-er" : "-et", "-D", "-U",
            "-f", script,
            torrentPath,
        };
        return new TransmissionPeer(ExternalProcess.Start(Program, args, configDirectory), p, marker);
    }

    /// <summary>Waits until transmission prints that it is seeding (files verified).</summary>
    public Task WaitForSeedingAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        _process.WaitForLineAsync(l => l.Contains("Seeding", StringComparison.Ordinal), timeout, cancellationToken);

    /// <summary>Waits until the finish script ran (the download completed and verified).</summary>
    public async Task WaitForFinishedAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!File.Exists(_marker))
        {
            if (_process.HasExited) throw new InvalidOperationException("transmission-cli exited: " + _process.Tail());
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"transmission-cli did not finish within {timeout}: {_process.Tail()}");
            await Task.Delay(200, cancellationToken);
        }
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
