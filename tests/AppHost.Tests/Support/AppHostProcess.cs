using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace TorrentEdge.AppHost.Tests;

/// <summary>
/// <c>dotnet run --project src/AppHost --no-build</c> as a child of the test, as a person would run it, its output
/// collected for assertions and failure messages. The configuration is that of the test assembly.
/// </summary>
public sealed class AppHostProcess : IDisposable
{
    private readonly StringBuilder _output = new();

    private AppHostProcess(Process process) => Process = process;

    public Process Process { get; }

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

    /// <summary>Starts the AppHost with <paramref name="args"/> (after <c>--</c>) and <paramref name="environment"/>.</summary>
    public static AppHostProcess Start(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var configuration = typeof(AppHostProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var project = Path.Combine(RepositoryRoot.Find(), "src", "AppHost");
        Assert.True(File.Exists(Path.Combine(project, "bin", configuration, "net10.0", "TorrentEdge.AppHost.dll")), $"the AppHost is not built in {configuration}");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryRoot.Find(),
        };
        foreach (var arg in new[] { "run", "--project", project, "-c", configuration, "--no-build", "--" })
        {
            info.ArgumentList.Add(arg);
        }
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        info.Environment["NO_COLOR"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }
        var run = new AppHostProcess(new Process { StartInfo = info });
        run.Process.OutputDataReceived += (_, e) => run.Append(e.Data);
        run.Process.ErrorDataReceived += (_, e) => run.Append(e.Data);
        run.Process.Start();
        run.Process.BeginOutputReadLine();
        run.Process.BeginErrorReadLine();
        return run;
    }

    /// <summary>Waits at most <paramref name="bound"/> for the AppHost to exit; false if it did not.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan bound, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(bound);
        try
        {
            await Process.WaitForExitAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Sends a signal (<c>TERM</c>, <c>INT</c>) to the <c>dotnet run</c> process, as Ctrl+C or a service manager would.</summary>
    public void Signal(string signal)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-" + signal, Process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit(5_000);
    }

    /// <summary>Kills the AppHost and the processes it started (bounded wait).</summary>
    public void KillTree()
    {
        try
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        KillTree();
        Process.Dispose();
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
}
