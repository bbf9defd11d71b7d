using System.Diagnostics;
using System.Reflection;
using System.Text;
using TorrentEdge.AppHost.Hosting;

namespace TorrentEdge.EndToEnd.Tests.Support;

/// <summary>
/// The whole suite as the AppHost composes it (embedded Kafka, SQLite, Gateway, Catalog, Analytics, Notifier, PeerWorker
/// replicas): the AppHost's Release/Debug build output run as a child of the test, its state file read for pids and URLs.
/// Disposing kills the AppHost's process tree and every pid the state file ever listed.
/// </summary>
public sealed class SuiteRun : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly HashSet<int> _pids = [];

    private SuiteRun(Process process, string dataDir)
    {
        _process = process;
        DataDir = dataDir;
    }

    public string DataDir { get; }

    public string DownloadRoot => Path.Combine(DataDir, "downloads");

    public string ResumeRoot => Path.Combine(DataDir, "resume");

    public string StatePath => Path.Combine(DataDir, SuiteState.FileName);

    /// <summary>What the AppHost and its children printed (each line prefixed with the resource name).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public string Tail(int chars = 12_000)
    {
        var output = Output;
        return output.Length <= chars ? output : "..." + output[^chars..];
    }

    /// <summary>Starts <c>dotnet src/AppHost/bin/&lt;configuration&gt;/net10.0/TorrentEdge.AppHost.dll</c> with the given options and environment.</summary>
    public static SuiteRun Start(string dataDir, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> environment)
    {
        var configuration = typeof(SuiteRun).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var dll = Path.Combine(RepositoryRoot(), "src", "AppHost", "bin", configuration, "net10.0", "TorrentEdge.AppHost.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution (or tests/EndToEnd.Tests) in {configuration} first");
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var info = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add("--data-dir");
        info.ArgumentList.Add(dataDir);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["NO_COLOR"] = "1";
        // Children inherit the AppHost's environment: this is how the test configures the services.
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }
        var run = new SuiteRun(new Process { StartInfo = info }, dataDir);
        run._process.OutputDataReceived += (_, e) => run.Append(e.Data);
        run._process.ErrorDataReceived += (_, e) => run.Append(e.Data);
        run._process.Start();
        run._process.BeginOutputReadLine();
        run._process.BeginErrorReadLine();
        return run;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

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
            Assert.False(_process.HasExited, "the AppHost exited early:\n" + Tail());
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

    public async ValueTask DisposeAsync()
    {
        ReadState();
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                await _process.WaitForExitAsync(wait.Token);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
        }
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
        _process.Dispose();
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

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TorrentEdge.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException("TorrentEdge.sln not found above " + AppContext.BaseDirectory);
    }
}
