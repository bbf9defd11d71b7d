using System.Text;
using TorrentEdge.AppHost.Resources;

namespace TorrentEdge.AppHost.Hosting;

/// <summary>Runs the suite: Kafka, Redis, every service replica; reports, keeps the state file, and stops it all.</summary>
public sealed class Supervisor : IAsyncDisposable
{
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    private readonly AppHostOptions _options;
    private readonly ConsoleLog _log;
    private readonly RepositoryLayout _layout;
    private readonly RestartPolicy _restartPolicy;
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly List<ChildProcess> _services = [];
    private readonly Lock _stateGate = new();
    private ChildProcess? _redis;
    private IKafkaHost? _kafka;
    private string? _kafkaNote;
    private bool _ready;
    private bool _stopping;

    public Supervisor(AppHostOptions options, ConsoleLog log, RepositoryLayout layout, RestartPolicy? restartPolicy = null)
    {
        _options = options;
        _log = log;
        _layout = layout;
        _restartPolicy = restartPolicy ?? new RestartPolicy();
        DataDir = Path.GetFullPath(options.DataDir);
        StatePath = Path.Combine(DataDir, SuiteState.FileName);
    }

    public string DataDir { get; }

    public string StatePath { get; }

    /// <summary>Starts everything, waits (bounded) for every service to be healthy, prints the table; returns false if the suite cannot start at all.</summary>
    public async Task<bool> StartAsync(CancellationToken shutdown)
    {
        var missing = Topology.Services.Where(s => !File.Exists(_layout.AssemblyPath(s))).ToList();
        if (missing.Count > 0)
        {
            foreach (var service in missing)
            {
                _log.Error($"{service.Name}: {_layout.AssemblyPath(service)} is missing.");
            }
            _log.Error($"Build the suite first: dotnet build src/AppHost -c {_layout.Configuration} (or run it with dotnet run --project src/AppHost).");
            return false;
        }
        if (_options.GatewayPort != 0 && !FreePorts.IsFree(_options.GatewayPort))
        {
            _log.Error($"Port {_options.GatewayPort} on 127.0.0.1 is taken: choose another with --gateway-port.");
            return false;
        }

        Directory.CreateDirectory(DataDir);
        Directory.CreateDirectory(Path.Combine(DataDir, "downloads"));
        Directory.CreateDirectory(Path.Combine(DataDir, "resume"));
        var replicas = SuitePlan.Create(_options, FreePorts.Next, FreePorts.FirstFreeFrom);
        // Every prefix gets its width before the first line is written, so the columns line up from the start.
        foreach (var name in replicas.Select(r => r.Name).Append("redis"))
        {
            _log.Register(name);
        }
        _log.Info($"Data directory: {DataDir}");

        StartKafka();
        var redisEndpoint = await StartRedisAsync(shutdown).ConfigureAwait(false);
        var peerWorkerSecret = string.Equals(_options.Environment, "Development", StringComparison.OrdinalIgnoreCase) ? SuiteContext.NewSecret() : null;
        var suite = new SuiteContext(DataDir, _options.Environment, _kafka?.BootstrapServers, redisEndpoint, replicas, peerWorkerSecret);
        var dotnet = DotnetHost();
        var probe = new HealthProbe(_http);
        foreach (var replica in replicas)
        {
            var spec = new ChildSpec(
                Name: replica.Name,
                Kind: "service",
                FileName: dotnet,
                Arguments: [_layout.AssemblyPath(replica.Service)],
                // The project folder, as `dotnet run` does: appsettings.json and wwwroot are found from there.
                WorkingDirectory: _layout.ProjectDirectory(replica.Service),
                Environment: SuitePlan.EnvironmentFor(replica, suite),
                Url: replica.Url.ToString().TrimEnd('/'),
                IsReadyAsync: ct => probe.IsHealthyAsync(replica.Url, ct));
            _services.Add(new ChildProcess(spec, _log, _restartPolicy, _options.HealthTimeout, WriteState));
        }

        _log.Info($"Starting {_services.Count} service processes ({string.Join(", ", _services.Select(s => s.Name))}).");
        foreach (var service in _services)
        {
            service.Start(shutdown);
        }

        try
        {
            await Task.WhenAll(_services.Select(s => s.FirstReadiness)).WaitAsync(_options.HealthTimeout + TimeSpan.FromSeconds(30), shutdown).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            _log.Error("Not every service settled in time; see the table.");
        }
        catch (OperationCanceledException)
        {
            return true;
        }

        lock (_stateGate)
        {
            _ready = true;
        }
        WriteState();
        _log.Block(Table());
        var unhealthy = _services.Where(s => s.State != "healthy").Select(s => s.Name).ToList();
        _log.Info(unhealthy.Count == 0
            ? $"All services are healthy. Open {GatewayUrl} ; Ctrl+C stops everything."
            : $"Running, but not healthy: {string.Join(", ", unhealthy)}. Ctrl+C stops everything.");
        return true;
    }

    private string GatewayUrl => _services.FirstOrDefault(s => s.Name == Topology.Gateway.Name)?.Snapshot().Url ?? "(no gateway)";

    private void StartKafka()
    {
        try
        {
            _kafka = KafkaHosting.TryStart(Topology.KafkaBrokers, out var reason);
            if (_kafka is null)
            {
                _kafkaNote = reason;
                _log.Error($"Kafka: not started: {reason}. Services run without ConnectionStrings__kafka.");
                return;
            }
            KafkaHosting.CreateTopics(_kafka, Topology.Topics);
            _log.Info($"Kafka: embedded cluster at {_kafka.BootstrapServers}; topics {string.Join(", ", Topology.Topics.Select(t => $"{t.Name} ({t.Partitions})"))}.");
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _kafka?.Dispose();
            _kafka = null;
            _kafkaNote = e.Message;
            _log.Error($"Kafka: could not start the embedded cluster: {e.Message}. Services run without it.");
        }
    }

    private async Task<string?> StartRedisAsync(CancellationToken shutdown)
    {
        if (!_options.Redis)
        {
            _log.Info("Redis: off (--no-redis); the suite runs without Redis.");
            return null;
        }
        var executable = RedisServer.Find();
        if (executable is null)
        {
            _log.Info($"Redis: {RedisServer.Executable} is not installed; the suite runs without Redis (caches in memory, no SignalR backplane).");
            return null;
        }

        var port = FreePorts.Next();
        _redis = new ChildProcess(RedisServer.Spec(executable, port, DataDir), _log, _restartPolicy, TimeSpan.FromSeconds(20), WriteState);
        _redis.Start(shutdown);
        await _redis.FirstReadiness.WaitAsync(TimeSpan.FromSeconds(30), shutdown).ConfigureAwait(false);
        if (_redis.State != "healthy")
        {
            _log.Error("Redis did not answer PING; the suite runs without Redis.");
            await _redis.StopAsync(StopGrace).ConfigureAwait(false);
            return null;
        }
        _log.Info($"Redis: redis-server (pid {_redis.Pid}) at 127.0.0.1:{port}, nothing persisted.");
        return $"127.0.0.1:{port}";
    }

    /// <summary>The dotnet host that runs the AppHost (children run on the same runtime), else the one on PATH.</summary>
    private static string DotnetHost()
    {
        var fromCli = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (!string.IsNullOrEmpty(fromCli) && File.Exists(fromCli))
        {
            return fromCli;
        }
        var self = Environment.ProcessPath;
        if (self is not null && Path.GetFileNameWithoutExtension(self).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return self;
        }
        return "dotnet";
    }

    /// <summary>Stops services (SIGTERM, bounded wait, kill), then Redis, then Kafka.</summary>
    public async Task StopAsync()
    {
        lock (_stateGate)
        {
            _stopping = true;
        }
        _log.Info("Stopping: SIGTERM to every service, then a kill for any still running after " + StopGrace.TotalSeconds + " s.");
        WriteState();
        await Task.WhenAll(_services.Select(s => s.StopAsync(StopGrace))).ConfigureAwait(false);
        if (_redis is not null)
        {
            await _redis.StopAsync(StopGrace).ConfigureAwait(false);
        }
        _kafka?.Dispose();
        _kafka = null;
        WriteState();
        _log.Info("Stopped. No child process is left.");
    }

    /// <summary>Kills every child at once; for the way out when a graceful stop is not possible.</summary>
    public void KillAll()
    {
        foreach (var service in _services)
        {
            service.KillNow();
        }
        _redis?.KillNow();
    }

    private IEnumerable<ResourceState> Resources()
    {
        foreach (var service in _services)
        {
            yield return service.Snapshot();
        }
        if (_redis is not null)
        {
            yield return _redis.Snapshot();
        }
        yield return _kafka is not null
            ? new ResourceState("kafka", "kafka", _stopping ? "stopped" : "running", Environment.ProcessId, _kafka.BootstrapServers)
            : new ResourceState("kafka", "kafka", "not started", null, null);
    }

    private void WriteState()
    {
        lock (_stateGate)
        {
            try
            {
                Directory.CreateDirectory(DataDir);
                new SuiteState(Environment.ProcessId, _ready, _stopping, Resources().ToList()).Write(StatePath);
            }
            catch (IOException e)
            {
                _log.Error($"Could not write {StatePath}: {e.Message}");
            }
        }
    }

    /// <summary>The table of resources and their URLs, the Gateway first.</summary>
    public string Table()
    {
        var rows = Resources().ToList();
        var nameWidth = Math.Max("Resource".Length, rows.Max(r => r.Name.Length));
        var kindWidth = Math.Max("Kind".Length, rows.Max(r => r.Kind.Length));
        var stateWidth = Math.Max("State".Length, rows.Max(r => r.State.Length));
        var text = new StringBuilder();
        text.AppendLine();
        text.AppendLine($"  {"Resource".PadRight(nameWidth)}  {"Kind".PadRight(kindWidth)}  {"State".PadRight(stateWidth)}  {"PID",7}  URL");
        foreach (var r in rows)
        {
            var url = r.Url ?? (r.Name == "kafka" ? _kafkaNote ?? string.Empty : string.Empty);
            text.AppendLine($"  {r.Name.PadRight(nameWidth)}  {r.Kind.PadRight(kindWidth)}  {r.State.PadRight(stateWidth)}  {(r.Pid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"),7}  {url}");
        }
        text.AppendLine($"  State file: {StatePath}");
        text.AppendLine();
        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        KillAll();
        _kafka?.Dispose();
        _http.Dispose();
        await Task.CompletedTask.ConfigureAwait(false);
    }
}
