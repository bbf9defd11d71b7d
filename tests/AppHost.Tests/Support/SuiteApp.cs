using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace TorrentEdge.AppHost.Tests;

/// <summary>
/// The suite as the AppHost declares it, started through Aspire.Hosting.Testing (DCP runs the real services; the
/// embedded Kafka lives in the test process). Tracks every resource's latest snapshot and console output, maps
/// replicas to their processes, and on dispose stops the app and kills anything of its data folder still alive.
/// Linked into tests/EndToEnd.Tests.
/// </summary>
public sealed partial class SuiteApp : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, ResourceEvent> _latest = new();
    private readonly ConcurrentQueue<string> _log = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _watchers = [];

    private SuiteApp(DistributedApplication app, string dataDir)
    {
        App = app;
        DataDir = dataDir;
    }

    public DistributedApplication App { get; }
    public string DataDir { get; }
    public string DownloadRoot => Path.Combine(DataDir, "downloads");
    public string ResumeRoot => Path.Combine(DataDir, "resume");

    private Task _started = Task.CompletedTask;

    /// <summary>
    /// Builds the AppHost's model with <c>--data-dir</c> and <paramref name="args"/>, lets <paramref name="configure"/>
    /// change it (extra environment for a test), and starts it. With <paramref name="awaitStart"/> false it returns
    /// at once: the orchestrator's start completes only when every resource has started, which a resource waiting
    /// for an absent dependency never does.
    /// </summary>
    public static async Task<SuiteApp> StartAsync(string dataDir, IReadOnlyList<string> args,
        Action<IDistributedApplicationTestingBuilder>? configure, CancellationToken cancellationToken, bool awaitStart = true)
    {
        // Once in a CI run, DCP's API server did not answer Aspire's request to create a resource within Aspire's own
        // 2-minute timeout (TimeoutRejectedException from KubernetesService.CreateAsync, before any service started).
        // That is the orchestrator failing to start, not the suite misbehaving, so the start is tried once more; any
        // other failure, or a second one, fails the test.
        for (var attempt = 1; ; attempt++)
        {
            var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(["--data-dir", dataDir, .. args], cancellationToken);
            configure?.Invoke(builder);
            var app = await builder.BuildAsync(cancellationToken);
            var suite = new SuiteApp(app, dataDir);
            suite._watchers.Add(suite.WatchAsync(app.Services.GetRequiredService<ResourceNotificationService>(), app.Services.GetRequiredService<ResourceLoggerService>()));
            suite._started = app.StartAsync(suite._stop.Token);
            if (!awaitStart)
            {
                return suite;
            }
            try
            {
                await suite._started.WaitAsync(cancellationToken);
                return suite;
            }
            catch (Exception e) when (attempt == 1 && IsOrchestratorTimeout(e) && !cancellationToken.IsCancellationRequested)
            {
                Console.WriteLine($"The orchestrator did not start the suite ({e.GetType().Name}: {e.Message}); starting it once more.");
                try
                {
                    await suite.DisposeAsync();
                }
                catch (Exception disposeError)
                {
                    Console.WriteLine($"Stopping the failed start: {disposeError.GetType().Name}: {disposeError.Message}");
                }
            }
        }
    }

    // Matched by name: Polly is Aspire's dependency, not one of these tests'.
    private static bool IsOrchestratorTimeout(Exception e) =>
        e.GetType().FullName == "Polly.Timeout.TimeoutRejectedException"
        && e.ToString().Contains("Aspire.Hosting.Dcp", StringComparison.Ordinal);

    /// <summary>Adds environment to a project resource of the model before it starts.</summary>
    public static void SetEnvironment(IDistributedApplicationTestingBuilder builder, string resource, IReadOnlyDictionary<string, string> environment)
    {
        var project = builder.CreateResourceBuilder<ProjectResource>(resource);
        foreach (var (key, value) in environment)
        {
            project.WithEnvironment(key, value);
        }
    }

    public Uri GatewayUrl => App.GetEndpoint(Topology.Gateway, "http");

    /// <summary>The latest snapshot of every resource instance, by its id (a replica's is <c>peerworker-abcd1234</c>).</summary>
    public IReadOnlyDictionary<string, ResourceEvent> Latest => _latest;

    /// <summary>The instances of one resource (several for a replicated one).</summary>
    public IReadOnlyList<ResourceEvent> Instances(string resource) =>
        [.. _latest.Values.Where(e => e.Resource.Name == resource).OrderBy(e => e.ResourceId, StringComparer.Ordinal)];

    public static bool IsRunningAndHealthy(ResourceEvent e) =>
        e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy;

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds over the snapshots.</summary>
    public async Task WaitUntilAsync(Func<SuiteApp, bool> condition, TimeSpan bound, string what, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < bound)
        {
            if (condition(this))
            {
                return;
            }
            await Task.Delay(200, cancellationToken);
        }
        Assert.Fail($"{what}: not within {bound.TotalSeconds} s. Resources: {Describe()}\n{Tail()}");
    }

    /// <summary>Waits (bounded) until every service instance, Kafka and Redis (when present) run and are healthy.</summary>
    public Task WaitUntilHealthyAsync(int workers, TimeSpan bound, CancellationToken cancellationToken) =>
        WaitUntilAsync(s =>
            Topology.Services.All(name => s.Instances(name) is { Count: > 0 } all && all.All(IsRunningAndHealthy))
            && s.Instances(Topology.PeerWorker).Count == workers
            && s.Instances(Topology.Kafka).All(IsRunningAndHealthy),
            bound, "every resource running and healthy", cancellationToken);

    public string Describe() => string.Join(", ", _latest.Values.OrderBy(e => e.ResourceId, StringComparer.Ordinal)
        .Select(e => $"{e.ResourceId}={e.Snapshot.State?.Text}/{e.Snapshot.HealthStatus}"));

    /// <summary>
    /// The service process of a project instance: the pid DCP reports. The AppHost has DCP start each service's built
    /// executable itself (no <c>dotnet run</c> in between), which this checks.
    /// </summary>
    public int ServicePid(string resourceId)
    {
        var pid = _latest[resourceId].Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value;
        Assert.True(pid is not null, $"{resourceId} has no pid: {Describe()}");
        var service = Convert.ToInt32(pid, CultureInfo.InvariantCulture);
        // A process that has exited (a replica a test killed) has no command line left to check.
        var commandLine = ProcessTree.CommandLine(service);
        Assert.True(commandLine.Length == 0 || commandLine.Contains("/TorrentEdge.", StringComparison.Ordinal) && !commandLine.StartsWith("dotnet", StringComparison.Ordinal),
            $"{resourceId} runs as '{commandLine}', not as the service's own executable");
        return service;
    }

    /// <summary>The instance's own address (not the proxy's): its <c>ASPNETCORE_URLS</c>.</summary>
    public Uri InstanceUrl(string resourceId)
    {
        var urls = ProcessTree.Environment(ServicePid(resourceId)).GetValueOrDefault("ASPNETCORE_URLS");
        Assert.False(string.IsNullOrEmpty(urls), $"{resourceId} has no ASPNETCORE_URLS");
        return new Uri(urls.Split(';')[0]);
    }

    /// <summary>kill -9 of one instance's service process (the orchestrator is not told).</summary>
    public void KillHard(string resourceId)
    {
        using var process = Process.GetProcessById(ServicePid(resourceId));
        process.Kill(entireProcessTree: false);
        process.WaitForExit(10_000);
    }

    /// <summary>
    /// Brings back an instance that died (Aspire restarts nothing by itself) the way a person would: once the orchestrator
    /// has seen it stopped, the dashboard's Start command, through <see cref="ResourceCommandService"/>.
    /// </summary>
    public async Task StartAgainAsync(string resourceId, TimeSpan bound, CancellationToken cancellationToken)
    {
        await WaitUntilAsync(s => KnownResourceStates.TerminalStates.Contains(s._latest[resourceId].Snapshot.State?.Text),
            bound, $"{resourceId} seen as stopped", cancellationToken);
        var commands = App.Services.GetRequiredService<ResourceCommandService>();
        var result = await commands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand, cancellationToken);
        Assert.True(result.Success, $"Start of {resourceId} failed: {result.Message}");
    }

    /// <summary>The resources' console output, newest last, each line prefixed with the instance's id.</summary>
    public string Tail(int chars = 12_000)
    {
        var text = string.Join('\n', _log);
        return text.Length <= chars ? text : "..." + text[^chars..];
    }

    private async Task WatchAsync(ResourceNotificationService notifications, ResourceLoggerService logs)
    {
        try
        {
            await foreach (var e in notifications.WatchAsync(_stop.Token))
            {
                if (_latest.TryAdd(e.ResourceId, e))
                {
                    lock (_watchers)
                    {
                        _watchers.Add(FollowLogAsync(logs, e.ResourceId));
                    }
                }
                else
                {
                    _latest[e.ResourceId] = e;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task FollowLogAsync(ResourceLoggerService logs, string resourceId)
    {
        try
        {
            var skipping = false;
            await foreach (var batch in logs.WatchAsync(resourceId).WithCancellation(_stop.Token))
            {
                foreach (var entry in batch)
                {
                    // The services colour their console (Aspire lets them): the codes are dropped so the text can be matched.
                    var content = AnsiCodes().Replace(entry.Content, "");
                    // Per-request entries (several lines each) would push everything else out of the bounded log that a
                    // failing test prints: what the services decided is what explains a failure.
                    if (IsEntryStart(content))
                    {
                        skipping = IsPerRequestEntry(content);
                    }
                    if (!skipping)
                    {
                        _log.Enqueue($"{resourceId} | {content}");
                        WriteToLogFile($"{resourceId} | {content}");
                    }
                }
                while (_log.Count > 4000 && _log.TryDequeue(out _))
                {
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    // With TORRENTEDGE_TEST_SUITE_LOGS set to a folder, every suite writes its whole (filtered) console there, unbounded:
    // for chasing a failure that the bounded tail does not explain.
    private readonly StreamWriter? _logFile = Environment.GetEnvironmentVariable("TORRENTEDGE_TEST_SUITE_LOGS") is { Length: > 0 } folder
        ? new StreamWriter(Path.Combine(Directory.CreateDirectory(folder).FullName, $"suite-{DateTime.UtcNow:HHmmss}-{Guid.NewGuid():N}.log")) { AutoFlush = true }
        : null;

    private void WriteToLogFile(string line)
    {
        if (_logFile is { } file)
        {
            lock (file)
            {
                try
                {
                    file.WriteLine(line);
                }
                catch (ObjectDisposedException)
                {
                    // A line that arrived while the suite was being disposed.
                }
            }
        }
    }

    private static readonly string[] PerRequestCategories =
    [
        "info: Microsoft.AspNetCore.Hosting.Diagnostics", "info: Microsoft.AspNetCore.Routing.EndpointMiddleware",
        "info: Microsoft.AspNetCore.Http.Result.", "info: System.Net.Http.HttpClient.", "info: Yarp.ReverseProxy.Forwarder",
    ];

    // A console entry starts with its level after the timestamp; its continuation lines start with spaces.
    private static bool IsEntryStart(string content)
    {
        var level = content.IndexOf(' ', StringComparison.Ordinal);
        return level >= 0 && level + 1 < content.Length && content[level + 1] != ' ';
    }

    private static bool IsPerRequestEntry(string content) =>
        PerRequestCategories.Any(c => content.Contains(c, StringComparison.Ordinal));

    [System.Text.RegularExpressions.GeneratedRegex("\x1b\\[[0-9;]*m")]
    private static partial System.Text.RegularExpressions.Regex AnsiCodes();

    public async ValueTask DisposeAsync()
    {
        if (!_started.IsCompleted)
        {
            await _stop.CancelAsync();
            await Task.WhenAny(_started, Task.Delay(TimeSpan.FromSeconds(30)));
        }
        try
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await App.StopAsync(bound.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
        {
        }
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync();
        }
        await App.DisposeAsync();
        // Anything of this suite still alive (found by its data folder in the environment) is killed.
        foreach (var pid in ProcessTree.WithEnvironment("TorrentEdge__DataDir", DataDir))
        {
            ProcessTree.Kill(pid);
        }
        _stop.Dispose();
        if (_logFile is { } logFile)
        {
            lock (logFile)
            {
                logFile.Dispose();
            }
        }
    }
}
