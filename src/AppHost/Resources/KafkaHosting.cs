namespace TorrentEdge.AppHost.Resources;

/// <summary>Starts the embedded Kafka and creates the suite's topics.</summary>
public static class KafkaHosting
{
    /// <summary>
    /// The Kafka seam: returns the started cluster, or null with the reason when there is none to start.
    /// EmbeddedKafka (src/ServiceDefaults/Messaging, another work item) is not in this build yet; until it is, the
    /// suite runs without Kafka and says so. Plugging it in is this one method: wrap <c>EmbeddedKafka.Start(brokers)</c>
    /// in an <see cref="IKafkaHost"/>.
    /// </summary>
    public static IKafkaHost? TryStart(int brokers, IReadOnlyList<TopicSpec> topics, out string? reason)
    {
        _ = brokers;
        _ = topics;
        reason = "the embedded Kafka (EmbeddedKafka in src/ServiceDefaults/Messaging) is not in this build yet";
        return null;
    }

    /// <summary>Creates every topic of the topology on a started cluster.</summary>
    public static void CreateTopics(IKafkaHost kafka, IReadOnlyList<TopicSpec> topics)
    {
        foreach (var topic in topics)
        {
            kafka.CreateTopic(topic.Name, topic.Partitions);
        }
    }
}
