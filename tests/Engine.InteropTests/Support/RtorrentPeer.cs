using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace TorrentEdge.Engine.InteropTests.Support;

/// <summary>
/// Debian's rtorrent 0.9.8 (libtorrent-rakshasa 0.13.8) with one torrent, headless (<c>system.daemon.set=true</c>)
/// and configured only by its own config file (<c>-n</c> skips ~/.rtorrent.rc). It treats every peer on its own IP
/// address as itself, so it binds to <see cref="Address"/> (127.0.0.2) while our engine stays on 127.0.0.1; it is
/// always dialled by us. Completion is seen through marker files its event hooks touch.
/// </summary>
public sealed class RtorrentPeer : IAsyncDisposable
{
    public const string Program = "/usr/bin/rtorrent";

    /// <summary>Its own loopback address: on 127.0.0.1 it would drop our engine as "is self".</summary>
    public static readonly IPAddress Address = IPAddress.Parse("127.0.0.2");

    private readonly ExternalProcess _process;
    private readonly string _hashedMarker;
    private readonly string _finishedMarker;
    private readonly string _logFile;

    private RtorrentPeer(ExternalProcess process, int port, string hashedMarker, string finishedMarker, string logFile)
    {
        _process = process;
        Port = port;
        _hashedMarker = hashedMarker;
        _finishedMarker = finishedMarker;
        _logFile = logFile;
    }

    public int Port { get; }

    public int ProcessId => _process.Id;

    public IPEndPoint EndPoint => new(Address, Port);

    public static bool IsAvailable => File.Exists(Program);

    /// <summary>Its output and the tail of its debug log (handshakes, tracker replies, hash checks), for failure messages.</summary>
    public string Log
    {
        get
        {
            string log;
            try
            {
                log = File.Exists(_logFile) ? File.ReadAllText(_logFile) : "(no log)";
            }
            catch (IOException e)
            {
                log = e.Message;
            }
            return _process.Tail() + "\n" + (log.Length <= 6000 ? log : "..." + log[^6000..]);
        }
    }

    /// <summary>
    /// Starts rtorrent on <paramref name="torrentPath"/> with <paramref name="directory"/> as its download folder: with the
    /// data already there it checks it and seeds, otherwise it downloads. Its session and log live in <paramref name="stateDirectory"/>.
    /// </summary>
    public static RtorrentPeer Start(string torrentPath, string directory, string stateDirectory)
    {
        var port = FreePort();
        var session = Path.Combine(stateDirectory, "session");
        Directory.CreateDirectory(session);
        Directory.CreateDirectory(directory);
        var hashed = Path.Combine(stateDirectory, "hashed");
        var finished = Path.Combine(stateDirectory, "finished");
        var log = Path.Combine(stateDirectory, "rtorrent.log");
        var config = Path.Combine(stateDirectory, "rtorrent.rc");
        // No DHT, PEX or UDP trackers; plaintext is accepted (our engine has no MSE). "debug" logging shows handshakes.
        File.WriteAllText(config, $"""
            session.path.set = "{session}"
            directory.default.set = "{directory}"
            network.bind_address.set = {Address}
            network.local_address.set = {Address}
            network.port_range.set = {port}-{port}
            network.port_random.set = no
            dht.mode.set = disable
            protocol.pex.set = no
            trackers.use_udp.set = no
            protocol.encryption.set = allow_incoming,try_outgoing,enable_retry
            log.open_file = "main", "{log}"
            log.add_output = "debug", "main"
            method.set_key = event.download.hash_done, te_hashed, "execute.nothrow = touch, \"{hashed}\""
            method.set_key = event.download.finished, te_finished, "execute.nothrow = touch, \"{finished}\""
            """);
        // A torrent named on the command line is loaded and started; daemon mode runs without a terminal, in the foreground.
        var process = ExternalProcess.Start(Program, ["-n", "-o", "import=" + config, "-o", "system.daemon.set=true", torrentPath],
            stateDirectory);
        return new RtorrentPeer(process, port, hashed, finished, log);
    }

    /// <summary>Waits until it has checked its files (a seeder is ready to be dialled then).</summary>
    public Task WaitForHashCheckedAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        WaitForMarkerAsync(_hashedMarker, "checked its files", timeout, cancellationToken);

    /// <summary>Waits until it has every piece (each checked against its hash).</summary>
    public Task WaitForFinishedAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        WaitForMarkerAsync(_finishedMarker, "finished", timeout, cancellationToken);

    private async Task WaitForMarkerAsync(string marker, string what, TimeSpan timeout, CancellationToken cancellationToken)
    {
        await Eventually.TrueAsync(() => File.Exists(marker) || _process.HasExited, timeout,
            () => $"rtorrent (pid {ProcessId}) {what}?\n{Log}", cancellationToken);
        if (!File.Exists(marker)) throw new InvalidOperationException($"rtorrent exited ({_process.ExitCode}) before it {what}:\n{Log}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(Address, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"rtorrent pid {ProcessId} on {EndPoint}");
}
