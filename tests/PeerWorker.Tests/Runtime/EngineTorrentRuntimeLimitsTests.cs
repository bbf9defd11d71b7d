using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using TorrentEdge.PeerWorker.Extensions;
using TorrentEdge.PeerWorker.Reconciliation;
using TorrentEdge.PeerWorker.Runtime;

namespace TorrentEdge.PeerWorker.Tests.Runtime;

/// <summary>The replica's configured limits and peer port range, as the real engine gets them, on 127.0.0.1.</summary>
public sealed class EngineTorrentRuntimeLimitsTests : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "pw-limits-" + Guid.NewGuid().ToString("n"));
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly List<EngineTorrentRuntime> _runtimes = [];

    [Fact]
    public void Constructor_ConfiguredLimits_ReachTheEngine()
    {
        var runtime = Create(new PeerWorkerOptions
        {
            MaxActiveTorrents = 3,
            MaxConnections = 17,
            MaxConnectionsPerTorrent = 4,
            UploadRateLimit = 100_000,
            DownloadRateLimit = 250_000,
            DirectWrites = false,
            Encryption = TorrentEdge.Engine.Encryption.EncryptionPolicy.Require,
            BanByAddress = false,
            MaxHalfOpenConnections = 5,
            MaxPendingIncomingConnections = 6,
            MaxConnectionsPerAddress = 7,
            MaxPeerCandidates = 8,
            MaxLoopQueueLength = 9,
            MaxActivePieceBytes = 10 * 1024 * 1024,
        });

        var engine = runtime.EngineOptions;
        Assert.Equal(3, engine.MaxActiveDownloads);
        Assert.Equal(17, engine.MaxConnections);
        Assert.Equal(4, engine.MaxConnectionsPerTorrent);
        Assert.Equal(100_000, engine.UploadRateLimit);
        Assert.Equal(250_000, engine.DownloadRateLimit);
        Assert.False(engine.DirectWrites);
        Assert.Equal(TorrentEdge.Engine.Encryption.EncryptionPolicy.Require, engine.Encryption);
        Assert.False(engine.BanByAddress);
        Assert.Equal(5, engine.MaxHalfOpenConnections);
        Assert.Equal(6, engine.MaxPendingIncomingConnections);
        Assert.Equal(7, engine.MaxConnectionsPerAddress);
        Assert.Equal(8, engine.MaxPeerCandidates);
        Assert.Equal(9, engine.MaxLoopQueueLength);
        Assert.Equal(10 * 1024 * 1024, engine.MaxActivePieceBytes);
        Assert.Equal(Path.Combine(_root, "downloads"), engine.DownloadDirectory);
        Assert.Equal(Path.Combine(_root, "downloads"), engine.ResumeDirectory);
    }

    // As an operator writes it: PeerWorker__Encryption=require (or "Encryption": "require" in appsettings.json).
    [Theory]
    [InlineData("require", TorrentEdge.Engine.Encryption.EncryptionPolicy.Require)]
    [InlineData("Disable", TorrentEdge.Engine.Encryption.EncryptionPolicy.Disable)]
    [InlineData(null, TorrentEdge.Engine.Encryption.EncryptionPolicy.Prefer)]
    public void Bind_EncryptionFromConfiguration_ReachesTheEngine(string? configured, TorrentEdge.Engine.Encryption.EncryptionPolicy expected)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["PeerWorker:Encryption"] = configured }).Build();
        var options = new PeerWorkerOptions();
        configuration.GetSection(PeerWorkerOptions.SectionName).Bind(options);
        Assert.Equal(expected, Create(options).EngineOptions.Encryption);
    }

    [Fact]
    public async Task Initialize_TwoReplicasOnOneMachineShareARange_EachListensOnItsOwnPortOfIt()
    {
        var ct = TestContext.Current.CancellationToken;
        var first = FreePortRange(3);
        var range = new PeerWorkerOptions { PeerPort = first, PeerPortMax = first + 2 };
        // Both built before either listens, as when two replicas start together.
        var a = Create(range);
        var b = Create(range);

        await a.InitializeAsync(ct);
        await b.InitializeAsync(ct);

        Assert.Null(a.HealthProblem);
        Assert.Null(b.HealthProblem);
        Assert.InRange(a.ListenEndPoint!.Port, first, first + 2);
        Assert.InRange(b.ListenEndPoint!.Port, first, first + 2);
        Assert.NotEqual(a.ListenEndPoint.Port, b.ListenEndPoint.Port);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, b.ListenEndPoint.Port, ct);
    }

    [Fact]
    public async Task Initialize_FirstPortOfTheRangeTaken_ListensOnTheNext()
    {
        var first = FreePortRange(2);
        using var squatter = new TcpListener(IPAddress.Loopback, first);
        squatter.Start();
        var runtime = Create(new PeerWorkerOptions { PeerPort = first, PeerPortMax = first + 1 });

        await runtime.InitializeAsync(TestContext.Current.CancellationToken);

        Assert.Equal(first + 1, runtime.ListenEndPoint!.Port);
    }

    [Fact]
    public async Task Initialize_EveryPortOfTheRangeTaken_EngineHealthIsUnhealthyWithTheReason()
    {
        var first = FreePortRange(1);
        using var squatter = new TcpListener(IPAddress.Loopback, first);
        squatter.Start();
        var runtime = Create(new PeerWorkerOptions { PeerPort = first, PeerPortMax = first });
        var check = new RuntimeHealthCheck(runtime, new OwnedTorrents());

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await runtime.InitializeAsync(TestContext.Current.CancellationToken));

        var result = await check.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Contains("in use", result.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HealthCheck_BeforeTheEngineStartsAndAfterItStops_IsUnhealthy()
    {
        var runtime = Create(new PeerWorkerOptions { PeerPort = 0 });
        var check = new RuntimeHealthCheck(runtime, new OwnedTorrents());
        var ct = TestContext.Current.CancellationToken;

        Assert.Equal(HealthStatus.Unhealthy, (await check.CheckHealthAsync(new HealthCheckContext(), ct)).Status);
        await runtime.InitializeAsync(ct);
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext(), ct)).Status);
        await runtime.DisposeAsync();
        Assert.Equal(HealthStatus.Unhealthy, (await check.CheckHealthAsync(new HealthCheckContext(), ct)).Status);
    }

    private EngineTorrentRuntime Create(PeerWorkerOptions options)
    {
        options.DownloadRoot = Path.Combine(_root, "downloads");
        options.ListenAddress = "127.0.0.1";
        var runtime = new EngineTorrentRuntime(Microsoft.Extensions.Options.Options.Create(options), _services.GetRequiredService<IMeterFactory>(),
            TimeProvider.System, NullLogger<EngineTorrentRuntime>.Instance);
        _runtimes.Add(runtime);
        return runtime;
    }

    /// <summary>The first of <paramref name="count"/> consecutive ports free on 127.0.0.1 right now.</summary>
    private static int FreePortRange(int count)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var listeners = new List<TcpListener>();
            try
            {
                var probe = new TcpListener(IPAddress.Loopback, 0);
                probe.Start();
                listeners.Add(probe);
                var first = ((IPEndPoint)probe.LocalEndpoint).Port;
                if (first + count - 1 > IPEndPoint.MaxPort)
                {
                    continue;
                }
                for (var port = first + 1; port < first + count; port++)
                {
                    var next = new TcpListener(IPAddress.Loopback, port);
                    next.Start();
                    listeners.Add(next);
                }
                return first;
            }
            catch (SocketException)
            {
            }
            finally
            {
                listeners.ForEach(l => l.Stop());
                listeners.ForEach(l => l.Dispose());
            }
        }
        throw new InvalidOperationException("No range of free ports found.");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var runtime in _runtimes)
        {
            await runtime.DisposeAsync();
        }
        await _services.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
