namespace TorrentEdge.AppHost.Resources;

/// <summary>
/// The event log the AppHost hosts in-process for the suite: the AppHost's seam over the embedded Kafka
/// (librdkafka's mock cluster) so the rest of the AppHost does not depend on how it is provided.
/// </summary>
public interface IKafkaHost : IDisposable
{
    /// <summary>Comma-separated <c>host:port</c> list handed to services as <c>ConnectionStrings__kafka</c>.</summary>
    string BootstrapServers { get; }

    void CreateTopic(string name, int partitions);
}
