using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;

namespace TorrentEdge.Notifier.Tests.SocketIO;

/// <summary>One line the node client printed: the event, its data, when (Unix ms) and on which transport.</summary>
public sealed record NodeEvent(string Event, JsonElement Data, long At, string? Transport);

/// <summary>
/// The real npm <c>socket.io-client</c> running <c>client/live-client.js</c> (the original design's client code) in a
/// node process; every event it gets arrives here as a <see cref="NodeEvent"/>. Disposing closes its stdin, then kills it by pid.
/// </summary>
public sealed class NodeSocketIoClient : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<NodeEvent> _events = new();
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly SemaphoreSlim _arrived = new(0);

    private NodeSocketIoClient(Process process) => _process = process;

    /// <summary>The folder with package.json, the lock file and live-client.js (node_modules after <c>npm ci</c>).</summary>
    public static string ClientDirectory { get; } = FindClientDirectory();

    public IReadOnlyCollection<NodeEvent> Events => _events;

    public static NodeSocketIoClient Start(Uri url, string token, IEnumerable<string> infoHashes, string? transports = null)
    {
        if (!Directory.Exists(Path.Combine(ClientDirectory, "node_modules", "socket.io-client")))
        {
            Assert.Fail($"socket.io-client is not installed: run `npm ci` in {ClientDirectory} (scripts/test.sh does)");
        }
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = ClientDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("live-client.js");
        start.ArgumentList.Add(url.ToString());
        start.ArgumentList.Add(token);
        start.ArgumentList.Add(string.Join(',', infoHashes));
        if (transports is not null)
        {
            start.ArgumentList.Add(transports);
        }
        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var client = new NodeSocketIoClient(process);
        process.OutputDataReceived += (_, e) => client.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                client._errors.Enqueue(e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return client;
    }

    private void OnLine(string? line)
    {
        if (string.IsNullOrWhiteSpace(line))
        {
            return;
        }
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        _events.Enqueue(new NodeEvent(
            root.GetProperty("event").GetString()!,
            root.TryGetProperty("data", out var data) ? data.Clone() : default,
            root.GetProperty("at").GetInt64(),
            root.TryGetProperty("transport", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null));
        _arrived.Release();
    }

    public IEnumerable<NodeEvent> Of(string name) => _events.Where(e => e.Event == name);

    /// <summary>Waits until an event matching <paramref name="match"/> has arrived; fails with what did arrive.</summary>
    public async Task<NodeEvent> WaitForAsync(string name, Func<JsonElement, bool>? match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var found = _events.FirstOrDefault(e => e.Event == name && (match is null || match(e.Data)));
            if (found is not null)
            {
                return found;
            }
            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                Assert.Fail($"no '{name}' within {timeout.TotalSeconds:0} s; received: {Summary()}; stderr: {string.Join(" | ", _errors.Take(10))}");
            }
            await _arrived.WaitAsync(left < TimeSpan.FromMilliseconds(250) ? left : TimeSpan.FromMilliseconds(250), cancellationToken);
        }
    }

    public void Send(string line)
    {
        _process.StandardInput.WriteLine(line);
        _process.StandardInput.Flush();
    }

    public string Summary() => string.Join(", ", _events.GroupBy(e => e.Event).Select(g => $"{g.Key} x{g.Count()}"));

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            try
            {
                _process.Kill();
            }
            catch (InvalidOperationException)
            {
            }
        }
        _process.Dispose();
    }

    private static string FindClientDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "Notifier.Tests", "SocketIO", "client");
            if (File.Exists(Path.Combine(candidate, "live-client.js")))
            {
                return candidate;
            }
        }
        throw new DirectoryNotFoundException("tests/Notifier.Tests/SocketIO/client not found above " + AppContext.BaseDirectory);
    }
}
