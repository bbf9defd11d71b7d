using System.Diagnostics;
using System.Text;
using System.Threading.Channels;

namespace TorrentEdge.Engine.InteropTests.Support;

/// <summary>
/// A program started for a test: its output lines are kept and can be awaited with a bound,
/// and disposing it kills it (and its children) by its process id.
/// </summary>
public sealed class ExternalProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Channel<string> _lines = Channel.CreateUnbounded<string>();
    private readonly StringBuilder _log = new();
    private readonly Lock _logLock = new();

    private ExternalProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Everything the program printed so far (stdout and stderr), for failure messages.</summary>
    public string Log
    {
        get { lock (_logLock) return _log.ToString(); }
    }

    public static ExternalProcess Start(string fileName, IEnumerable<string> arguments, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        if (environment is not null)
            foreach (var (k, v) in environment) psi.Environment[k] = v;
        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var result = new ExternalProcess(process, Path.GetFileName(fileName));
        process.OutputDataReceived += (_, e) => result.OnLine(e.Data, stdout: true);
        process.ErrorDataReceived += (_, e) => result.OnLine(e.Data, stdout: false);
        process.Exited += (_, _) => result._lines.Writer.TryComplete();
        if (!process.Start()) throw new InvalidOperationException($"{fileName} did not start.");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return result;
    }

    private void OnLine(string? line, bool stdout)
    {
        if (line is null) return;
        lock (_logLock) _log.Append(stdout ? "" : "[err] ").AppendLine(line);
        if (stdout) _lines.Writer.TryWrite(line);
    }

    /// <summary>Waits for a stdout line that satisfies <paramref name="match"/>; throws TimeoutException with the log when the bound passes.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            while (await _lines.Reader.WaitToReadAsync(cts.Token).ConfigureAwait(false))
                while (_lines.Reader.TryRead(out var line))
                    if (match(line)) return line;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{Name} (pid {Id}) did not print the expected line within {timeout}. Output:\n{Tail()}");
        }
        throw new InvalidOperationException($"{Name} (pid {Id}) exited before printing the expected line. Output:\n{Tail()}");
    }

    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{Name} (pid {Id}) did not exit within {timeout}. Output:\n{Tail()}");
        }
        return _process.ExitCode;
    }

    /// <summary>Kills the process by id, like kill -9 (no chance to save anything).</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    public string Tail(int chars = 6000)
    {
        var log = Log;
        return log.Length <= chars ? log : "..." + log[^chars..];
    }

    public async ValueTask DisposeAsync()
    {
        Kill();
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Bounded: a process that ignores SIGKILL is beyond our reach.
        }
        _process.Dispose();
    }
}
