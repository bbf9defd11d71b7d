using TorrentEdge.AppHost.Hosting;

namespace TorrentEdge.AppHost.Tests.Hosting;

public sealed class SuitePlanTests
{
    private static IReadOnlyList<ReplicaPlan> Plan(AppHostOptions options)
    {
        var next = 20000;
        return SuitePlan.Create(options, () => next++, start => start);
    }

    [Fact]
    public void Create_Defaults_GatewayFirstOnItsPortAndTwoWorkersWithOwnPeerPorts()
    {
        var replicas = Plan(new AppHostOptions());

        Assert.Equal(["gateway", "catalog", "analytics", "notifier", "peerworker-0", "peerworker-1"], replicas.Select(r => r.Name));
        Assert.Equal(3000, replicas[0].HttpPort);
        Assert.Equal(replicas.Count, replicas.Select(r => r.HttpPort).Distinct().Count());
        var peerPorts = replicas.Where(r => r.Service.IsPeerWorker).Select(r => r.PeerPort).ToList();
        Assert.Equal([6881, 6882], peerPorts);
    }

    [Fact]
    public void Create_Workers_SetsReplicaCount()
    {
        Assert.Equal(4, Plan(new AppHostOptions { Workers = 4 }).Count(r => r.Service.IsPeerWorker));
    }

    [Fact]
    public void EnvironmentFor_Gateway_GetsEveryServiceItProxiesInAspireConvention()
    {
        var replicas = Plan(new AppHostOptions());
        var suite = new SuiteContext("/data", "Development", "127.0.0.1:9092", "127.0.0.1:6379", replicas);

        var env = SuitePlan.EnvironmentFor(replicas[0], suite);

        Assert.Equal("http://127.0.0.1:3000", env["ASPNETCORE_URLS"]);
        Assert.Equal("Development", env["ASPNETCORE_ENVIRONMENT"]);
        Assert.Equal("gateway", env["OTEL_SERVICE_NAME"]);
        Assert.Equal(replicas.Single(r => r.Name == "catalog").Url.ToString().TrimEnd('/'), env["services__catalog__http__0"]);
        Assert.Contains("services__analytics__http__0", env.Keys);
        Assert.Contains("services__notifier__http__0", env.Keys);
        Assert.DoesNotContain("services__peerworker__http__0", env.Keys);
        Assert.DoesNotContain("ConnectionStrings__kafka", env.Keys);
    }

    [Fact]
    public void EnvironmentFor_PeerWorker_GetsKafkaCatalogAndItsOwnIdentity()
    {
        var replicas = Plan(new AppHostOptions());
        var suite = new SuiteContext("/data", "Development", "127.0.0.1:9092", null, replicas);
        var worker = replicas.Single(r => r.Name == "peerworker-1");

        var env = SuitePlan.EnvironmentFor(worker, suite);

        Assert.Equal("127.0.0.1:9092", env["ConnectionStrings__kafka"]);
        Assert.Contains("services__catalog__http__0", env.Keys);
        Assert.Equal("peerworker-1", env["PeerWorker__ReplicaId"]);
        Assert.Equal("6882", env["PeerWorker__PeerPort"]);
        Assert.Equal(Path.Combine("/data", "downloads"), env["PeerWorker__DownloadRoot"]);
        Assert.Equal("/data", env["TorrentEdge__DataDir"]);
        Assert.Equal("peerworker", env["OTEL_SERVICE_NAME"]);
    }

    [Fact]
    public void EnvironmentFor_Catalog_GetsSqliteAndRedisOnlyWhenRedisRuns()
    {
        var replicas = Plan(new AppHostOptions());
        var catalog = replicas.Single(r => r.Name == "catalog");

        var withRedis = SuitePlan.EnvironmentFor(catalog, new SuiteContext("/data", "Development", null, "127.0.0.1:6379", replicas));
        var withoutRedis = SuitePlan.EnvironmentFor(catalog, new SuiteContext("/data", "Development", null, null, replicas));

        Assert.Equal($"Data Source={Path.Combine("/data", "catalog.db")}", withRedis["ConnectionStrings__catalogdb"]);
        Assert.Equal("127.0.0.1:6379", withRedis["ConnectionStrings__redis"]);
        Assert.DoesNotContain("ConnectionStrings__redis", withoutRedis.Keys);
    }

    [Fact]
    public void EnvironmentFor_WithPeerWorkerSecret_CatalogAndWorkersShareItOthersDoNot()
    {
        var replicas = Plan(new AppHostOptions());
        var secret = SuiteContext.NewSecret();
        var suite = new SuiteContext("/data", "Development", null, null, replicas, secret);

        var catalog = SuitePlan.EnvironmentFor(replicas.Single(r => r.Name == "catalog"), suite);
        var worker = SuitePlan.EnvironmentFor(replicas.Single(r => r.Name == "peerworker-0"), suite);
        var gateway = SuitePlan.EnvironmentFor(replicas[0], suite);

        Assert.True(secret.Length >= 32);
        Assert.NotEqual(secret, SuiteContext.NewSecret());
        Assert.Equal(secret, catalog["Auth__ServiceClients__peerworker"]);
        Assert.Equal("peerworker", worker["PeerWorker__CatalogClientId"]);
        Assert.Equal(secret, worker["PeerWorker__CatalogClientSecret"]);
        Assert.DoesNotContain(gateway.Values, v => v == secret);
        Assert.DoesNotContain("PeerWorker__CatalogClientSecret", catalog.Keys);
    }

    [Fact]
    public void EnvironmentFor_NoPeerWorkerSecret_NoneHandedOut()
    {
        var replicas = Plan(new AppHostOptions());
        var suite = new SuiteContext("/data", "Production", null, null, replicas);

        Assert.DoesNotContain("Auth__ServiceClients__peerworker", SuitePlan.EnvironmentFor(replicas.Single(r => r.Name == "catalog"), suite).Keys);
        Assert.DoesNotContain("PeerWorker__CatalogClientSecret", SuitePlan.EnvironmentFor(replicas.Single(r => r.Name == "peerworker-0"), suite).Keys);
    }
}
