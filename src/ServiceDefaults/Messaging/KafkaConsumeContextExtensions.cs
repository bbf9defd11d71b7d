using MassTransit;

namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>Where a message handed over by the Kafka bridge came from, for consumers that care (e.g. ownership by partition).</summary>
public static class KafkaConsumeContextExtensions
{
    /// <summary>The Kafka partition of the message, or null if it did not come through the bridge.</summary>
    public static int? GetKafkaPartition(this ConsumeContext context) => context.Headers.Get<int>(KafkaHeaders.SourcePartition);

    public static long? GetKafkaOffset(this ConsumeContext context) => context.Headers.Get<long>(KafkaHeaders.SourceOffset);

    public static string? GetKafkaKey(this ConsumeContext context) => context.Headers.Get<string>(KafkaHeaders.SourceKey);

    public static string? GetKafkaTopic(this ConsumeContext context) => context.Headers.Get<string>(KafkaHeaders.SourceTopic);
}
