using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using TorrentEdge.AppHost.Hosting;

namespace TorrentEdge.AppHost.Resources;

/// <summary>How the AppHost runs Redis: Debian's redis-server on a free loopback port, nothing persisted.</summary>
public static class RedisServer
{
    public const string Executable = "redis-server";

    /// <summary>The full path of redis-server on PATH, or null when it is not installed.</summary>
    public static string? Find()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, Executable);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    public static ChildSpec Spec(string executable, int port, string workingDirectory) => new(
        Name: "redis",
        Kind: "redis",
        FileName: executable,
        // No RDB snapshots, no AOF: the suite's Redis is a cache and a backplane, nothing to keep.
        Arguments: ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        WorkingDirectory: workingDirectory,
        Environment: new Dictionary<string, string>(),
        Url: $"redis://127.0.0.1:{port}",
        IsReadyAsync: ct => PingAsync(port, ct));

    /// <summary>True when the server answers PING with PONG.</summary>
    public static async Task<bool> PingAsync(int port, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, port, timeout.Token).ConfigureAwait(false);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray(), timeout.Token).ConfigureAwait(false);
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer, timeout.Token).ConfigureAwait(false);
            return Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
