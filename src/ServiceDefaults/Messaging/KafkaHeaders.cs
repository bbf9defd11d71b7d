namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>Names of the Kafka headers our messages carry, and of the MassTransit headers the bridge adds for consumers.</summary>
public static class KafkaHeaders
{
    /// <summary>Contract type name (e.g. <c>TorrentAdded</c>), resolved through <see cref="IntegrationEventTypes"/>.</summary>
    public const string MessageType = "message-type";
    public const string SchemaVersion = "schema-version";
    public const string MessageId = "message-id";
    public const string ContentType = "content-type";
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";

    // Added on the dead-letter copy.
    public const string Error = "error";
    public const string ErrorType = "error-type";
    public const string OriginalTopic = "original-topic";
    public const string OriginalPartition = "original-partition";
    public const string OriginalOffset = "original-offset";
    public const string ConsumerGroup = "consumer-group";

    // Set on the MassTransit ConsumeContext so consumers can see where a message came from.
    public const string SourceTopic = "kafka-topic";
    public const string SourcePartition = "kafka-partition";
    public const string SourceOffset = "kafka-offset";
    public const string SourceKey = "kafka-key";

    public const string JsonContentType = "application/json";
}
