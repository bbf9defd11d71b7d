namespace TorrentEdge.AppHost.Hosting;

/// <summary>One process to run: a replica of a service with the ports it was given.</summary>
public sealed record ReplicaPlan(ServiceSpec Service, int Index, string Name, int HttpPort, int? PeerPort)
{
    public Uri Url => new($"http://127.0.0.1:{HttpPort}");
}

/// <summary>
/// What the whole suite was given: the addresses every child's environment is built from, and the PeerWorkers'
/// service credential at Catalog (<paramref name="PeerWorkerSecret"/>; generated per run in Development, otherwise
/// left to the environment the AppHost was started with).
/// </summary>
public sealed record SuiteContext(
    string DataDir,
    string Environment,
    string? KafkaBootstrapServers,
    string? RedisEndpoint,
    IReadOnlyList<ReplicaPlan> Replicas,
    string? PeerWorkerSecret = null)
{
    /// <summary>The PeerWorkers' client id at Catalog.</summary>
    public const string PeerWorkerClientId = "peerworker";

    /// <summary>A fresh random secret (256 bits, base64url): never a fixed default.</summary>
    public static string NewSecret() =>
        Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Turns the topology and the options into concrete replicas and ports, and each replica's environment.</summary>
public static class SuitePlan
{
    /// <summary>Replicas in topology order (the Gateway first), each with a free HTTP port (the Gateway's fixed unless 0).</summary>
    public static IReadOnlyList<ReplicaPlan> Create(AppHostOptions options, Func<int> freePort, Func<int, int> freePortFrom)
    {
        var replicas = new List<ReplicaPlan>();
        var nextPeerPort = Topology.PeerPortRangeStart;
        foreach (var service in Topology.Services)
        {
            var count = service.IsPeerWorker ? options.Workers : service.DefaultReplicas;
            for (var i = 0; i < count; i++)
            {
                var port = service == Topology.Gateway && options.GatewayPort != 0 ? options.GatewayPort : freePort();
                int? peerPort = null;
                if (service.IsPeerWorker)
                {
                    peerPort = freePortFrom(nextPeerPort);
                    nextPeerPort = peerPort.Value + 1;
                }
                replicas.Add(new ReplicaPlan(service, i, service.ReplicaName(i, count), port, peerPort));
            }
        }
        return replicas;
    }

    /// <summary>The environment of one child, in Aspire's conventions.</summary>
    public static IReadOnlyDictionary<string, string> EnvironmentFor(ReplicaPlan replica, SuiteContext suite)
    {
        var service = replica.Service;
        var env = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["ASPNETCORE_URLS"] = replica.Url.ToString().TrimEnd('/'),
            ["ASPNETCORE_ENVIRONMENT"] = suite.Environment,
            ["DOTNET_ENVIRONMENT"] = suite.Environment,
            ["OTEL_SERVICE_NAME"] = service.Name,
            ["OTEL_RESOURCE_ATTRIBUTES"] = $"service.instance.id={replica.Name}",
            ["TorrentEdge__DataDir"] = suite.DataDir,
            // One line per log entry, so the prefixed and coloured output stays readable (FormatterName must be
            // set, or the console logger ignores FormatterOptions).
            ["Logging__Console__FormatterName"] = "simple",
            ["Logging__Console__FormatterOptions__SingleLine"] = "true",
            // The web templates' default: without it every health probe logs four lines per service.
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
        };

        foreach (var use in service.Uses)
        {
            switch (use)
            {
                case Topology.Kafka when suite.KafkaBootstrapServers is not null:
                    env["ConnectionStrings__kafka"] = suite.KafkaBootstrapServers;
                    break;
                case Topology.Redis when suite.RedisEndpoint is not null:
                    env["ConnectionStrings__redis"] = suite.RedisEndpoint;
                    break;
                case Topology.CatalogDb:
                    env["ConnectionStrings__catalogdb"] = $"Data Source={Path.Combine(suite.DataDir, "catalog.db")}";
                    break;
            }
        }

        foreach (var reference in service.References)
        {
            var instances = suite.Replicas.Where(r => r.Service.Name == reference).OrderBy(r => r.Index).ToList();
            for (var i = 0; i < instances.Count; i++)
            {
                env[$"services__{reference}__http__{i}"] = instances[i].Url.ToString().TrimEnd('/');
            }
        }

        if (suite.PeerWorkerSecret is { } secret)
        {
            // Catalog trades it for a service token that reads metainfo too large to travel in a spec.
            if (service == Topology.Catalog)
            {
                env[$"Auth__ServiceClients__{SuiteContext.PeerWorkerClientId}"] = secret;
            }
            else if (service.IsPeerWorker)
            {
                env["PeerWorker__CatalogClientId"] = SuiteContext.PeerWorkerClientId;
                env["PeerWorker__CatalogClientSecret"] = secret;
            }
        }

        if (service.IsPeerWorker)
        {
            env["PeerWorker__ReplicaId"] = replica.Name;
            env["PeerWorker__DownloadRoot"] = Path.Combine(suite.DataDir, "downloads");
            env["PeerWorker__ResumeRoot"] = Path.Combine(suite.DataDir, "resume");
            if (replica.PeerPort is int peerPort)
            {
                env["PeerWorker__PeerPort"] = peerPort.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }
        return env;
    }
}
