using System.Net;
using Aspire.Hosting.ApplicationModel;

namespace TorrentEdge.AppHost.Tests;

/// <summary>The suite through Aspire.Hosting.Testing: every resource up, healthy and wired as Program.cs declares.</summary>
public sealed class SuiteTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Suite_Default_EveryResourceRunsHealthyAndGetsItsConnections()
    {
        var dataDir = Directory.CreateTempSubdirectory("torrentedge-suite-").FullName;
        await using var suite = await SuiteApp.StartAsync(dataDir, [], configure: null, Ct);

        await suite.WaitUntilHealthyAsync(workers: 2, TimeSpan.FromSeconds(120), Ct);

        // The embedded Kafka is a resource of its own, running, with its brokers as a property and as every service's connection string.
        var kafka = Assert.Single(suite.Instances(Topology.Kafka));
        Assert.Equal("EmbeddedKafka", kafka.Snapshot.ResourceType);
        var bootstrap = kafka.Snapshot.Properties.Single(p => p.Name == "bootstrap.servers").Value?.ToString();
        Assert.Matches(@"^127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+){2}$", bootstrap);
        foreach (var name in new[] { Topology.Catalog, Topology.Analytics, Topology.Notifier, Topology.PeerWorker })
        {
            foreach (var instance in suite.Instances(name))
            {
                var environment = ProcessTree.Environment(suite.ServicePid(instance.ResourceId));
                Assert.Equal(bootstrap, environment.GetValueOrDefault("ConnectionStrings__kafka"));
                Assert.Equal("Development", environment.GetValueOrDefault("ASPNETCORE_ENVIRONMENT"));
                Assert.False(string.IsNullOrEmpty(environment.GetValueOrDefault("OTEL_SERVICE_NAME")), $"{instance.ResourceId} exports no telemetry");
            }
        }
        // Every instance is the service's built executable itself, with no `dotnet run` wrapper above it (BuiltExecutables).
        foreach (var name in Topology.Services)
        {
            foreach (var instance in suite.Instances(name))
            {
                var pid = suite.ServicePid(instance.ResourceId);
                Assert.DoesNotContain("dotnet run", ProcessTree.CommandLine(ProcessTree.ParentOf(pid)), StringComparison.Ordinal);
            }
        }
        var catalogEnvironment = ProcessTree.Environment(suite.ServicePid(Assert.Single(suite.Instances(Topology.Catalog)).ResourceId));
        Assert.Equal($"Data Source={Path.Combine(dataDir, "catalog.db")}", catalogEnvironment["ConnectionStrings__catalogdb"]);
        var analyticsEnvironment = ProcessTree.Environment(suite.ServicePid(Assert.Single(suite.Instances(Topology.Analytics)).ResourceId));
        Assert.Equal($"Data Source={Path.Combine(dataDir, "analytics.db")}", analyticsEnvironment["ConnectionStrings__analyticsdb"]);

        // Two PeerWorker replicas, each its own process and replica id, sharing the data folder and the Catalog credential.
        var workers = suite.Instances(Topology.PeerWorker);
        Assert.Equal(2, workers.Count);
        var workerEnvironments = workers.Select(w => ProcessTree.Environment(suite.ServicePid(w.ResourceId))).ToList();
        Assert.All(workerEnvironments, e => Assert.Equal(Path.Combine(dataDir, "downloads"), e["PeerWorker__DownloadRoot"]));
        Assert.All(workerEnvironments, e => Assert.Equal(catalogEnvironment["Auth__ServiceClients__peerworker"], e["PeerWorker__CatalogClientSecret"]));
        Assert.True(catalogEnvironment["Auth__ServiceClients__peerworker"].Length >= 32, "the generated service secret is short");
        Assert.NotEqual(workerEnvironments[0]["OTEL_RESOURCE_ATTRIBUTES"], workerEnvironments[1]["OTEL_RESOURCE_ATTRIBUTES"]);

        // Redis: redis-server when installed (scripts/test.sh installs it), handed to the services that use it.
        var redis = Assert.Single(suite.Instances(Topology.Redis));
        if (File.Exists("/usr/bin/redis-server"))
        {
            Assert.True(SuiteApp.IsRunningAndHealthy(redis), $"redis: {redis.Snapshot.State?.Text}/{redis.Snapshot.HealthStatus}");
            var notifier = ProcessTree.Environment(suite.ServicePid(Assert.Single(suite.Instances(Topology.Notifier)).ResourceId));
            Assert.Matches(@"^localhost:\d+$", notifier["ConnectionStrings__redis"]);
        }
        else
        {
            Assert.StartsWith("Not installed", redis.Snapshot.State?.Text, StringComparison.Ordinal);
        }

        // The Gateway answers through Catalog.
        using var http = new HttpClient { BaseAddress = suite.GatewayUrl, Timeout = TimeSpan.FromSeconds(10) };
        using var anonymous = await http.GetAsync(new Uri("/api/torrents", UriKind.Relative), Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    [Fact]
    public async Task Suite_ExternalKafkaNotAnswering_DependentsWaitVisiblyInsteadOfCrashing()
    {
        var dataDir = Directory.CreateTempSubdirectory("torrentedge-suite-").FullName;
        // Port 9 (discard) on loopback: nothing listens there.
        await using var suite = await SuiteApp.StartAsync(dataDir, ["--ConnectionStrings:kafka=127.0.0.1:9", "--redis", "off"], configure: null, Ct, awaitStart: false);

        string[] dependents = [Topology.Gateway, Topology.Catalog, Topology.Analytics, Topology.Notifier, Topology.PeerWorker];
        static bool AllWaiting(SuiteApp s, string[] names) =>
            names.All(n => s.Instances(n) is { Count: > 0 } all && all.All(i => i.Snapshot.State?.Text == KnownResourceStates.Waiting));
        await suite.WaitUntilAsync(s => s.Instances(Topology.Kafka) is [{ Snapshot.HealthStatus: Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Unhealthy }]
            && AllWaiting(s, dependents), TimeSpan.FromSeconds(60), "the external Kafka unhealthy and every service that needs it waiting", Ct);

        // And they keep waiting: nothing starts against a broker that does not answer, nothing crash-loops.
        await Task.Delay(TimeSpan.FromSeconds(5), Ct);
        Assert.True(AllWaiting(suite, dependents), suite.Describe());
        Assert.DoesNotContain(suite.Latest.Values, e => e.Snapshot.State?.Text is "Exited" or "FailedToStart" or "Finished");
        Assert.Equal("Off (--redis off)", Assert.Single(suite.Instances(Topology.Redis)).Snapshot.State?.Text);
    }
}
