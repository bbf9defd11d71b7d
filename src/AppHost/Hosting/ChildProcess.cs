using System.Diagnostics;

namespace TorrentEdge.AppHost.Hosting;

/// <summary>How to launch one child and how to tell that it is ready.</summary>
public sealed record ChildSpec(
    string Name,
    string Kind,
    string FileName,
    IReadOnlyList<string> Arguments,
    string WorkingDirectory,
    IReadOnlyDictionary<string, string> Environment,
    string? Url,
    Func<CancellationToken, Task<bool>> IsReadyAsync);

/// <summary>
/// One supervised child process: launched, its output prefixed into the AppHost's console, restarted with backoff when
/// it dies unasked, stopped with SIGTERM and then, past a grace period, killed with its whole tree.
/// </summary>
public sealed class ChildProcess
{
    private readonly ChildSpec _spec;
    private readonly ConsoleLog _log;
    private readonly RestartPolicy _policy;
    private readonly TimeSpan _readyTimeout;
    private readonly Action _changed;
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _firstReadiness = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Process? _process;
    private bool _stopping;
    private Task _supervision = Task.CompletedTask;

    public ChildProcess(ChildSpec spec, ConsoleLog log, RestartPolicy policy, TimeSpan readyTimeout, Action changed)
    {
        _spec = spec;
        _log = log;
        _policy = policy;
        _readyTimeout = readyTimeout;
        _changed = changed;
        log.Register(spec.Name);
    }

    public string Name => _spec.Name;

    public string State { get; private set; } = "pending";

    public int? Pid { get; private set; }

    public int Restarts { get; private set; }

    /// <summary>Every pid this child has had, the current one included (tests check none outlives the AppHost).</summary>
    public List<int> AllPids { get; } = [];

    public ResourceState Snapshot() => new(_spec.Name, _spec.Kind, State, Pid, _spec.Url, Restarts);

    /// <summary>Completes when the first launch became ready or gave up (<see cref="State"/> says which).</summary>
    public Task FirstReadiness => _firstReadiness.Task;

    public void Start(CancellationToken shutdown) => _supervision = SuperviseAsync(shutdown);

    private async Task SuperviseAsync(CancellationToken shutdown)
    {
        var rapidCrashes = 0;
        while (!shutdown.IsCancellationRequested)
        {
            Process? process;
            try
            {
                process = Launch();
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or IOException)
            {
                _log.Error($"{Name}: could not start {_spec.FileName}: {e.Message}");
                SetState("failed");
                _firstReadiness.TrySetResult();
                return;
            }
            if (process is null)
            {
                return;
            }

            var started = DateTime.UtcNow;
            _ = WatchReadinessAsync(process, shutdown);
            try
            {
                await process.WaitForExitAsync(shutdown).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Shutdown: StopAsync takes it from here.
                return;
            }

            lock (_gate)
            {
                if (_stopping)
                {
                    return;
                }
            }

            var uptime = DateTime.UtcNow - started;
            rapidCrashes = _policy.NextCrashCount(rapidCrashes, uptime);
            if (_policy.ShouldGiveUp(rapidCrashes))
            {
                _log.Error($"{Name} exited with code {process.ExitCode} and crashed {rapidCrashes} times in a row within {_policy.StableAfter.TotalSeconds:0} s of starting: giving up on it. Its output above says why.");
                SetState("failed");
                _firstReadiness.TrySetResult();
                return;
            }

            var delay = _policy.DelayFor(rapidCrashes);
            _log.Error($"{Name} (pid {process.Id}) exited with code {process.ExitCode} after {uptime.TotalSeconds:0.0} s; restarting in {delay.TotalSeconds:0.#} s.");
            SetState("restarting");
            try
            {
                await Task.Delay(delay, shutdown).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Restarts++;
        }
    }

    private Process? Launch()
    {
        var info = new ProcessStartInfo(_spec.FileName)
        {
            WorkingDirectory = _spec.WorkingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = false,
            UseShellExecute = false,
        };
        foreach (var argument in _spec.Arguments)
        {
            info.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in _spec.Environment)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _log.Child(Name, e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                _log.Child(Name, e.Data, isError: true);
            }
        };

        lock (_gate)
        {
            // Checked under the lock StopAsync takes, so a stop can never miss a process started meanwhile.
            if (_stopping)
            {
                return null;
            }
            process.Start();
            _process = process;
            Pid = process.Id;
            AllPids.Add(process.Id);
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        SetState("starting");
        return process;
    }

    private async Task WatchReadinessAsync(Process process, CancellationToken shutdown)
    {
        var deadline = DateTime.UtcNow + _readyTimeout;
        try
        {
            while (DateTime.UtcNow < deadline && !process.HasExited)
            {
                if (await _spec.IsReadyAsync(shutdown).ConfigureAwait(false))
                {
                    if (!process.HasExited)
                    {
                        SetState("healthy");
                    }
                    _firstReadiness.TrySetResult();
                    await MonitorAsync(process, shutdown).ConfigureAwait(false);
                    return;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(250), shutdown).ConfigureAwait(false);
            }
            if (!process.HasExited)
            {
                _log.Error($"{Name} did not report healthy within {_readyTimeout.TotalSeconds:0} s.");
                SetState("unhealthy");
            }
        }
        catch (OperationCanceledException)
        {
        }
        // A launch that died before it was ready leaves the first readiness to the next launch, unless it gives up.
        if (State is "unhealthy")
        {
            _firstReadiness.TrySetResult();
        }
    }

    /// <summary>
    /// Keeps probing a ready child so the table and state file tell a hung service from a healthy one: three failed
    /// probes in a row make it unhealthy, one good probe healthy again. Restarting is left to crashes, as Aspire does.
    /// </summary>
    private async Task MonitorAsync(Process process, CancellationToken shutdown)
    {
        var failures = 0;
        while (!process.HasExited && !shutdown.IsCancellationRequested)
        {
            await Task.Delay(MonitorInterval, shutdown).ConfigureAwait(false);
            if (process.HasExited || IsStopping())
            {
                return;
            }
            if (await _spec.IsReadyAsync(shutdown).ConfigureAwait(false))
            {
                failures = 0;
                if (State == "unhealthy")
                {
                    _log.Info($"{Name} is healthy again.");
                    SetState("healthy");
                }
            }
            else if (++failures == 3 && !process.HasExited && !IsStopping())
            {
                _log.Error($"{Name} failed 3 health probes in a row.");
                SetState("unhealthy");
            }
        }
    }

    private static readonly TimeSpan MonitorInterval = TimeSpan.FromSeconds(5);

    private bool IsStopping()
    {
        lock (_gate)
        {
            return _stopping;
        }
    }

    /// <summary>SIGTERM, a bounded wait, then the whole process tree killed; no process is left behind either way.</summary>
    public async Task StopAsync(TimeSpan grace)
    {
        Process? process;
        lock (_gate)
        {
            _stopping = true;
            process = _process;
        }
        if (process is not null && !HasExited(process))
        {
            SetState("stopping");
            if (!Posix.Terminate(process.Id))
            {
                KillTree(process);
            }
            using var wait = new CancellationTokenSource(grace);
            try
            {
                await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                _log.Error($"{Name} (pid {process.Id}) did not stop within {grace.TotalSeconds:0} s of SIGTERM: killing it.");
                KillTree(process);
                using var afterKill = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await process.WaitForExitAsync(afterKill.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    _log.Error($"{Name} (pid {process.Id}) is still there after SIGKILL.");
                }
            }
        }
        try
        {
            await _supervision.WaitAsync(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        SetState("stopped");
        _firstReadiness.TrySetResult();
    }

    /// <summary>Last resort, synchronous: kills whatever is still running (used when the AppHost itself is going down hard).</summary>
    public void KillNow()
    {
        Process? process;
        lock (_gate)
        {
            _stopping = true;
            process = _process;
        }
        if (process is not null && !HasExited(process))
        {
            KillTree(process);
        }
    }

    private static bool HasExited(Process process)
    {
        try
        {
            return process.HasExited;
        }
        catch (InvalidOperationException)
        {
            return true;
        }
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Gone already.
        }
    }

    private void SetState(string state)
    {
        State = state;
        _changed();
    }
}
