namespace TorrentEdge.AppHost.Tests.Deploy;

/// <summary>One service as the AppHost declares it: what the manifests under deploy/ must agree with.</summary>
/// <param name="EnvironmentNames">Every variable the AppHost hands the service (a superset is fine: the tests pick the families deploy/ must carry).</param>
/// <param name="References">The services whose endpoints it is handed (<c>services__&lt;name&gt;__http__0</c>).</param>
public sealed record DeclaredService(string Name, int Replicas, IReadOnlySet<string> EnvironmentNames, IReadOnlyList<string> References);

/// <summary>A Kafka topic the AppHost creates, with its partitions.</summary>
public sealed record DeclaredTopic(string Name, int Partitions);

/// <summary>
/// The seam between the manifest tests and the AppHost: the only place that reads the AppHost's declaration.
/// Today it is built from <see cref="Topology"/> and the environment table of docs/apphost.md (which
/// <c>SuitePlan.EnvironmentFor</c> implements). With the Aspire AppHost, <see cref="DeclaredServicesAsync"/> reads the
/// app model instead: <c>DistributedApplicationTestingBuilder.CreateAsync&lt;Projects.AppHost&gt;(["--operation",
/// "publish", ...])</c> (publish mode: nothing starts), then per <c>ProjectResource</c> its name,
/// <c>GetReplicaCount()</c>, the keys its <c>EnvironmentCallbackAnnotation</c>s write into an
/// <c>EnvironmentCallbackContext</c> (<c>GetEnvironmentVariableValuesAsync</c> is obsolete in 13.6), and the
/// <c>services__&lt;name&gt;__http__*</c> keys as references.
/// </summary>
public static class AppHostDeclaration
{
    public static Task<IReadOnlyList<DeclaredService>> DeclaredServicesAsync()
    {
        IReadOnlyList<DeclaredService> services = Topology.Services
            .Select(s => new DeclaredService(s.Name, s.DefaultReplicas, EnvironmentOf(s), s.References))
            .ToList();
        return Task.FromResult(services);
    }

    public static IReadOnlyList<DeclaredTopic> DeclaredTopics() =>
        Topology.Topics.Select(t => new DeclaredTopic(t.Name, t.Partitions)).ToList();

    /// <summary>The names of docs/apphost.md's table "Environment handed to each child" for one service.</summary>
    private static HashSet<string> EnvironmentOf(ServiceSpec service)
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { "OTEL_SERVICE_NAME", "TorrentEdge__DataDir" };
        names.UnionWith(service.Uses.Select(use => $"ConnectionStrings__{use}"));
        names.UnionWith(service.References.Select(reference => $"services__{reference}__http__0"));
        if (service == Topology.Catalog)
        {
            names.Add("Auth__ServiceClients__peerworker");
        }
        if (service.IsPeerWorker)
        {
            names.UnionWith([
                "PeerWorker__CatalogClientId", "PeerWorker__CatalogClientSecret", "PeerWorker__ReplicaId",
                "PeerWorker__PeerPort", "PeerWorker__DownloadRoot", "PeerWorker__ResumeRoot",
            ]);
        }
        return names;
    }
}
