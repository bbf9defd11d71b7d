namespace TorrentEdge.AppHost.Tests;

public sealed class TopologyTests
{
    [Fact]
    public void Services_GatewayFirst_AndEveryProjectExists()
    {
        Assert.Equal("gateway", Topology.Services[0].Name);
        var root = RepositoryRoot.Find();
        foreach (var service in Topology.Services)
        {
            Assert.True(File.Exists(Path.Combine(root, "src", service.Project, service.Project + ".csproj")), $"no project for {service.Name}");
        }
    }

    [Fact]
    public void Services_ReferencesNameServicesOfTheTopology()
    {
        var names = Topology.Services.Select(s => s.Name).ToHashSet();
        foreach (var service in Topology.Services)
        {
            Assert.All(service.References, reference => Assert.Contains(reference, names));
        }
        Assert.Equal(["catalog", "analytics", "notifier"], Topology.Gateway.References);
        // Services that validate tokens find Catalog's JWKS through discovery.
        Assert.Contains("catalog", Topology.Notifier.References);
        Assert.Contains("catalog", Topology.Analytics.References);
    }

    [Fact]
    public void Topics_SpecsAndEventsWithTheirDeadLetterTopics()
    {
        var topics = Topology.Topics.ToDictionary(t => t.Name, t => t.Partitions);

        Assert.Equal(12, topics["torrent-specs"]);
        Assert.Equal(6, topics["torrent-events"]);
        Assert.Contains("torrent-specs.dlq", topics.Keys);
        Assert.Contains("torrent-events.dlq", topics.Keys);
    }

    [Fact]
    public void PeerWorker_TwoReplicasByDefault()
    {
        Assert.Equal(2, Topology.PeerWorker.DefaultReplicas);
        Assert.Equal("peerworker-0", Topology.PeerWorker.ReplicaName(0, 1));
        Assert.Equal("catalog", Topology.Catalog.ReplicaName(0, 1));
    }

    [Fact]
    public void ToJson_Workers_ListsEveryServiceWithReplicasAndTopics()
    {
        using var document = System.Text.Json.JsonDocument.Parse(TopologyDocument.ToJson(workers: 3));

        var services = document.RootElement.GetProperty("services").EnumerateArray().ToList();
        Assert.Equal(Topology.Services.Select(s => s.Name), services.Select(s => s.GetProperty("name").GetString()));
        var worker = services.Single(s => s.GetProperty("name").GetString() == "peerworker");
        Assert.Equal(3, worker.GetProperty("replicas").GetInt32());
        Assert.Equal("TorrentEdge.PeerWorker", worker.GetProperty("assembly").GetString());
        Assert.Equal(Topology.Topics.Count, document.RootElement.GetProperty("topics").GetArrayLength());
    }
}
