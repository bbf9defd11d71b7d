using k8s;
using k8s.Models;

namespace TorrentEdge.AppHost.Tests.Deploy;

/// <summary>Strimzi's <c>KafkaTopic</c> (kafka.strimzi.io/v1beta2), the fields the tests read.</summary>
public sealed class KafkaTopic : IKubernetesObject<V1ObjectMeta>
{
    public const string ApiGroupVersion = "kafka.strimzi.io/v1beta2";

    public string ApiVersion { get; set; } = ApiGroupVersion;
    public string Kind { get; set; } = "KafkaTopic";
    public V1ObjectMeta Metadata { get; set; } = new();
    public KafkaTopicSpec Spec { get; set; } = new();

    /// <summary>The topic in Kafka: <c>spec.topicName</c>, else the resource's name.</summary>
    public string TopicName => Spec.TopicName ?? Metadata.Name;
}

public sealed class KafkaTopicSpec
{
    public string? TopicName { get; set; }
    public int Partitions { get; set; }
    public int Replicas { get; set; }
    public Dictionary<string, string> Config { get; set; } = [];
}

/// <summary>Any other Strimzi resource (the dev overlay's <c>Kafka</c> and <c>KafkaNodePool</c>): its metadata only.</summary>
public sealed class StrimziResource : IKubernetesObject<V1ObjectMeta>
{
    public string ApiVersion { get; set; } = KafkaTopic.ApiGroupVersion;
    public string Kind { get; set; } = "";
    public V1ObjectMeta Metadata { get; set; } = new();
    public Dictionary<string, object>? Spec { get; set; }
}
