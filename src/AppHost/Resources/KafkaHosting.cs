using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.AppHost.Resources;

/// <summary>Starts the embedded Kafka and creates the suite's topics.</summary>
public static class KafkaHosting
{
    /// <summary>
    /// The Kafka seam: the embedded cluster (librdkafka's mock, <see cref="EmbeddedKafka"/>) started with
    /// <paramref name="brokers"/> brokers, or null with the reason when it cannot start here (librdkafka missing or not
    /// loadable), in which case the suite runs without Kafka and says so.
    /// </summary>
    public static IKafkaHost? TryStart(int brokers, out string? reason)
    {
        try
        {
            var kafka = new EmbeddedKafkaHost(EmbeddedKafka.Start(brokers));
            reason = null;
            return kafka;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or InvalidOperationException)
        {
            reason = e.Message;
            return null;
        }
    }

    /// <summary>Creates every topic of the topology on a started cluster.</summary>
    public static void CreateTopics(IKafkaHost kafka, IReadOnlyList<TopicSpec> topics)
    {
        foreach (var topic in topics)
        {
            kafka.CreateTopic(topic.Name, topic.Partitions);
        }
    }

    private sealed class EmbeddedKafkaHost(EmbeddedKafka kafka) : IKafkaHost
    {
        public string BootstrapServers => kafka.BootstrapServers;

        public void CreateTopic(string name, int partitions) => kafka.CreateTopic(name, partitions);

        public void Dispose() => kafka.Dispose();
    }
}
