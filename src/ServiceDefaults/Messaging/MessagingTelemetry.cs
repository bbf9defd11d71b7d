using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>The activity source and counters of the messaging layer ("TorrentEdge.Messaging").</summary>
public sealed class MessagingTelemetry
{
    public const string Name = "TorrentEdge.Messaging";

    /// <summary>One activity per published message (Producer) and per handled message (Consumer, child of the producer's).</summary>
    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Counter<long> _published;
    private readonly Counter<long> _consumed;
    private readonly Counter<long> _failed;
    private readonly Counter<long> _deadLettered;

    public MessagingTelemetry(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(Name);
        _published = meter.CreateCounter<long>("torrentedge.messaging.published", "{message}", "Messages acknowledged by the broker.");
        _consumed = meter.CreateCounter<long>("torrentedge.messaging.consumed", "{message}", "Messages handled successfully and committed.");
        _failed = meter.CreateCounter<long>("torrentedge.messaging.failed", "{attempt}", "Handling attempts that threw.");
        _deadLettered = meter.CreateCounter<long>("torrentedge.messaging.dead_lettered", "{message}", "Messages moved to a dead-letter topic.");
    }

    internal void Published(string topic) => _published.Add(1, new KeyValuePair<string, object?>("messaging.destination.name", topic));

    internal void Consumed(string topic, string group) => _consumed.Add(1, Tags(topic, group));

    internal void Failed(string topic, string group) => _failed.Add(1, Tags(topic, group));

    internal void DeadLettered(string topic, string group) => _deadLettered.Add(1, Tags(topic, group));

    private static TagList Tags(string topic, string group) => new()
    {
        { "messaging.destination.name", topic },
        { "messaging.consumer.group.name", group },
    };
}
