using TorrentEdge.Contracts;

namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>Publishes integration events to a Kafka topic, keyed so that one torrent's events stay in order.</summary>
public interface IIntegrationEventPublisher
{
    /// <summary>Completes when the broker has acknowledged the event (the producer is idempotent).</summary>
    Task PublishAsync<TEvent>(string topic, string key, TEvent @event, CancellationToken cancellationToken = default)
        where TEvent : IntegrationEvent;

    /// <summary>
    /// As <see cref="PublishAsync{TEvent}"/>, for an event the caller already serialized with
    /// <see cref="IntegrationEventJson.SerializeToUtf8Bytes"/> (for its own journal, say): the value is sent as given,
    /// not serialized again. <paramref name="utf8Json"/> must not change until the returned task completes.
    /// </summary>
    Task PublishSerializedAsync(string topic, string key, IntegrationEvent @event, byte[] utf8Json, CancellationToken cancellationToken = default)
        => PublishAsync(topic, key, @event, cancellationToken);
}
