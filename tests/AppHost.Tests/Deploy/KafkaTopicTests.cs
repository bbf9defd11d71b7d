using k8s.Models;

namespace TorrentEdge.AppHost.Tests.Deploy;

/// <summary>The AppHost's Kafka topics as Strimzi KafkaTopics, on the cluster the services connect to.</summary>
public sealed class KafkaTopicTests
{
    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public void KafkaTopics_EachRendering_TheDeclaredTopicsWithTheirPartitions(string kustomization)
    {
        var topics = Rendering.Of(kustomization).OfType<KafkaTopic>().ToList();

        Assert.Equal(
            AppHostDeclaration.DeclaredTopics().Select(t => (t.Name, t.Partitions)).Order(),
            topics.Select(t => (t.TopicName, t.Spec.Partitions)).Order());
        Assert.All(topics, t => Assert.InRange(t.Spec.Replicas, 1, 5));
        Assert.All(topics, t => Assert.True(
            !t.Spec.Config.TryGetValue("min.insync.replicas", out var isr) || int.Parse(isr, System.Globalization.CultureInfo.InvariantCulture) <= t.Spec.Replicas,
            $"{t.TopicName}: min.insync.replicas {isr} with {t.Spec.Replicas} replicas accepts no write"));
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public void KafkaTopics_SpecsAndUsers_CompactedAndTheRestDeleted(string kustomization)
    {
        var topics = Rendering.Of(kustomization).OfType<KafkaTopic>().ToDictionary(t => t.TopicName);

        Assert.NotEmpty(topics);
        Assert.All(topics.Values, t => Assert.Equal(
            t.TopicName is "torrent-specs" or "torrent-users" ? "compact" : "delete",
            t.Spec.Config.GetValueOrDefault("cleanup.policy")));
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public async Task KafkaTopics_Cluster_IsTheOneEveryServiceConnectsTo(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        var clusters = rendering.OfType<KafkaTopic>().Select(t => (t.Metadata.Labels is { } labels && labels.TryGetValue("strimzi.io/cluster", out var name) ? name : null)).Distinct().ToList();

        var cluster = Assert.Single(clusters);
        Assert.False(string.IsNullOrEmpty(cluster));
        var users = (await AppHostDeclaration.DeclaredServicesAsync()).Where(s => s.EnvironmentNames.Contains("ConnectionStrings__kafka")).ToList();
        Assert.NotEmpty(users);
        Assert.All(users, s => Assert.StartsWith(
            $"{cluster}-kafka-bootstrap:",
            rendering.Environment(rendering.Container(s.Name))["ConnectionStrings__kafka"].Value,
            StringComparison.Ordinal));
        // The dev overlay brings its own cluster; it must be the one the topics name.
        Assert.All(rendering.OfType<StrimziResource>().Where(r => r.Kind == "Kafka"), k => Assert.Equal(cluster, k.Metadata.Name));
    }
}
