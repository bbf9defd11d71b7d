using System.Diagnostics;
using System.Reflection;
using System.Text;

namespace TorrentEdge.AppHost.Tests;

/// <summary>
/// The AppHost's build output (<c>dotnet src/AppHost/bin/&lt;configuration&gt;/net10.0/TorrentEdge.AppHost.dll</c>) run as a
/// child of the test, as a person would run it, its output collected for assertions and failure messages. Linked
/// into tests/EndToEnd.Tests too; the configuration is that of the test assembly compiling this file.
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

    /// <summary>Starts the AppHost with <paramref name="args"/>; <paramref name="environment"/> is inherited by the services it starts.</summary>
    public static AppHostProcess Start(IReadOnlyList<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var configuration = typeof(AppHostProcess).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        var dll = Path.Combine(RepositoryRoot.Find(), "src", "AppHost", "bin", configuration, "net10.0", "TorrentEdge.AppHost.dll");
        Assert.True(File.Exists(dll), $"{dll} is missing: build the solution in {configuration} first");
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } h && File.Exists(h) ? h : "dotnet";
        var info = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(dll);
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
