using TorrentEdge.Contracts;

namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>Publishes integration events to a Kafka topic, keyed so that one torrent's events stay in order.</summary>
public interface IIntegrationEventPublisher
{
    /// <summary>Completes when the broker has acknowledged the event (the producer is idempotent).</summary>
    Task PublishAsync<TEvent>(string topic, string key, TEvent @event, CancellationToken cancellationToken = default)
        where TEvent : IntegrationEvent;
}
