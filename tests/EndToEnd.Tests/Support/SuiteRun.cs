using System.Diagnostics;
using TorrentEdge.AppHost.Hosting;
using TorrentEdge.AppHost.Tests;

namespace TorrentEdge.EndToEnd.Tests.Support;

/// <summary>
/// The whole suite as the AppHost composes it (embedded Kafka, SQLite, Gateway, Catalog, Analytics, Notifier, PeerWorker
/// replicas): the AppHost's Release/Debug build output run as a child of the test, its state file read for pids and URLs.
/// Disposing kills the AppHost's process tree and every pid the state file ever listed.
/// </summary>
public sealed class SuiteRun : IAsyncDisposable
{
    private readonly AppHostProcess _appHost;
    private readonly HashSet<int> _pids = [];

    private SuiteRun(AppHostProcess appHost, string dataDir)
    {
        _appHost = appHost;
        DataDir = dataDir;
    }

    public string DataDir { get; }

    public string DownloadRoot => Path.Combine(DataDir, "downloads");

    public string ResumeRoot => Path.Combine(DataDir, "resume");

    public string StatePath => Path.Combine(DataDir, SuiteState.FileName);

    /// <summary>What the AppHost and its children printed (each line prefixed with the resource name).</summary>
    public string Output => _appHost.Output;

    public string Tail(int chars = 12_000) => _appHost.Tail(chars);

    /// <summary>Starts the AppHost's build output with its data in <paramref name="dataDir"/> and the given options and environment.</summary>
    public static SuiteRun Start(string dataDir, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment) =>
        new(AppHostProcess.Start(["--data-dir", dataDir, .. args], environment), dataDir);

    /// <summary>The current state file (null while it is being written for the first time); remembers every pid in it.</summary>
    public SuiteState? ReadState()
    {
        var state = SuiteState.Read(StatePath);
        if (state is not null)
        {
            lock (_pids)
            {
                foreach (var r in state.Resources.Where(r => r.Pid is not null && r.Kind != "kafka"))
                {
                    _pids.Add(r.Pid!.Value);
                }
            }
        }
        return state;
    }

    /// <summary>Waits (bounded) until every service is healthy; returns the state.</summary>
    public async Task<SuiteState> WaitUntilHealthyAsync(TimeSpan bound, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        SuiteState? last = null;
        while (deadline.Elapsed < bound)
        {
            Assert.False(_appHost.Process.HasExited, "the AppHost exited early:\n" + Tail());
            last = ReadState();
            if (last is { Ready: true } && last.Resources.Where(r => r.Kind == "service").All(r => r.State == "healthy"))
            {
                return last;
            }
            await Task.Delay(500, cancellationToken);
        }
        Assert.Fail($"the suite was not healthy within {bound.TotalSeconds} s: {Describe(last)}\n{Tail()}");
        return null!;
    }

    public static string Describe(SuiteState? state) =>
        string.Join(", ", state?.Resources.Select(r => $"{r.Name}={r.State}/{r.Pid}") ?? []);

    /// <summary>kill -9 of one service replica by its pid (the AppHost is not told).</summary>
    public static void KillHard(int pid)
    {
        using var process = Process.GetProcessById(pid);
        process.Kill(entireProcessTree: false);
        process.WaitForExit(10_000);
    }

    public ValueTask DisposeAsync()
    {
        ReadState();
        _appHost.KillTree(); // first, so it restarts nothing while its children are killed
        List<int> pids;
        lock (_pids)
        {
            pids = [.. _pids];
        }
        foreach (var pid in pids.Where(IsOurs))
        {
            try
            {
                using var child = Process.GetProcessById(pid);
                child.Kill(entireProcessTree: true);
                child.WaitForExit(5_000);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Gone already.
            }
        }
        _appHost.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>Still one of the suite's processes (a dead child's pid may have been reused by something else).</summary>
    private static bool IsOurs(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Contains("TorrentEdge.", StringComparison.Ordinal);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
