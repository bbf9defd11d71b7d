using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.InteropTests.Support;

/// <summary>
/// Debian's opentracker on 127.0.0.1 (HTTP and UDP on free ports) serving a whitelist of info-hashes,
/// stopped by its process id on dispose.
/// </summary>
/// <remarks>
/// opentracker chroots into its directory and drops to user "nobody" when run as root, so the
/// whitelist is given relative to that directory, and the directory and files must be readable by
/// others (a 0700 temp directory makes it fail with "Can't open accesslist file" and refuse everything).
/// </remarks>
public sealed class OpenTracker : IAsyncDisposable
{
    public const string ExecutablePath = "/usr/bin/opentracker";

    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _output;

    private OpenTracker(Process process, string directory, StringBuilder output, int httpPort, int udpPort)
    {
        _process = process;
        _directory = directory;
        _output = output;
        HttpPort = httpPort;
        UdpPort = udpPort;
    }

    public static bool IsInstalled => File.Exists(ExecutablePath);

    public int HttpPort { get; }

    public int UdpPort { get; }

    public Uri HttpAnnounceUrl => new($"http://127.0.0.1:{HttpPort}/announce");

    public Uri UdpAnnounceUrl => new($"udp://127.0.0.1:{UdpPort}/announce");

    /// <summary>What opentracker printed so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    public static Task<OpenTracker> StartAsync(IEnumerable<InfoHash> whitelist, CancellationToken cancellationToken = default)
        => StartAsync(whitelist.Select(h => h.ToHex()), cancellationToken);

    /// <summary>Starts opentracker allowing the given info-hashes (40 hex digits each).</summary>
    public static async Task<OpenTracker> StartAsync(IEnumerable<string> whitelistHex, CancellationToken cancellationToken = default)
    {
        if (!IsInstalled) throw new InvalidOperationException($"{ExecutablePath} is not installed (Debian package opentracker).");
        var hashes = whitelistHex.Select(h => InfoHash.Parse(h).ToHex()).ToArray();
        Exception? last = null;
        // A free port found by binding port 0 can be taken by someone else before opentracker binds it.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            try
            {
                return await TryStartAsync(hashes, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException e)
            {
                last = e;
            }
        }

        throw new InvalidOperationException("opentracker did not start.", last);
    }

    private static async Task<OpenTracker> TryStartAsync(string[] hashes, CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows()) throw new PlatformNotSupportedException("opentracker runs on Linux.");
        var dir = Directory.CreateTempSubdirectory("te-opentracker-").FullName;
        const UnixFileMode Readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        File.SetUnixFileMode(dir, Readable | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);

        var httpPort = FreeTcpPort();
        var udpPort = FreeUdpPort();
        var whitelist = Path.Combine(dir, "whitelist");
        await File.WriteAllTextAsync(whitelist, string.Concat(hashes.Select(h => h + "\n")), cancellationToken).ConfigureAwait(false);
        File.SetUnixFileMode(whitelist, Readable);
        var config = Path.Combine(dir, "opentracker.conf");
        await File.WriteAllTextAsync(config, $"""
            listen.tcp 127.0.0.1:{httpPort}
            listen.udp 127.0.0.1:{udpPort}
            access.whitelist whitelist
            """ + "\n", cancellationToken).ConfigureAwait(false);
        File.SetUnixFileMode(config, Readable);

        var psi = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = dir,
            ArgumentList = { "-f", config, "-d", dir },
        };
        var output = new StringBuilder();
        var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var tracker = new OpenTracker(process, dir, output, httpPort, udpPort);
        try
        {
            await WaitForHttpAsync(process, httpPort, cancellationToken).ConfigureAwait(false);
            foreach (var hash in hashes) await WaitForWhitelistAsync(process, httpPort, hash, cancellationToken).ConfigureAwait(false);
            // If our process lost the race for the port, another tracker may have answered the probes.
            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            if (process.HasExited) throw new TimeoutException($"opentracker exited with {process.ExitCode}: {tracker.Output}");
            return tracker;
        }
        catch
        {
            await tracker.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static void Append(StringBuilder sb, string? line)
    {
        if (line is null) return;
        lock (sb) sb.AppendLine(line);
    }

    private static async Task WaitForHttpAsync(Process process, int port, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited) throw new TimeoutException($"opentracker exited with {process.ExitCode}.");
            using var client = new TcpClient(AddressFamily.InterNetwork);
            try
            {
                await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }

        throw new TimeoutException("opentracker did not open its HTTP port.");
    }

    // opentracker loads its whitelist on a thread of its own after the port opens; until then it refuses
    // every torrent ("not authorized"). A stopped-event announce asks without joining the swarm.
    private static async Task WaitForWhitelistAsync(Process process, int port, string hexHash, CancellationToken cancellationToken)
    {
        var hash = Convert.FromHexString(hexHash);
        var escaped = string.Concat(hash.Select(b => "%" + b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));
        var uri = new Uri($"http://127.0.0.1:{port}/announce?info_hash={escaped}&peer_id=-TE0100-whitelist000&port=1&uploaded=0&downloaded=0&left=0&event=stopped&compact=1");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        string last = "";
        while (deadline.Elapsed < TimeSpan.FromSeconds(15))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited) throw new TimeoutException($"opentracker exited with {process.ExitCode}.");
            try
            {
                last = await http.GetStringAsync(uri, cancellationToken).ConfigureAwait(false);
                if (!last.Contains("not authorized", StringComparison.OrdinalIgnoreCase)) return;
            }
            catch (HttpRequestException e)
            {
                last = e.Message;
            }
            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }

        throw new TimeoutException($"opentracker did not load its whitelist: {last}");
    }

    private static int FreeTcpPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static int FreeUdpPort()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        s.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)s.LocalEndPoint!).Port;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
