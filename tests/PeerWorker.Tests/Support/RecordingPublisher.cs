using System.Collections.Concurrent;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.PeerWorker.Tests.Support;

/// <summary>Keeps what would have gone to Kafka; unit tests only.</summary>
internal sealed class RecordingPublisher : IIntegrationEventPublisher
{
    public ConcurrentQueue<(string Topic, string Key, IntegrationEvent Event)> Published { get; } = new();

    public Task PublishAsync<TEvent>(string topic, string key, TEvent @event, CancellationToken cancellationToken = default)
        where TEvent : IntegrationEvent
    {
        Published.Enqueue((topic, key, @event));
        return Task.CompletedTask;
    }

    public IReadOnlyList<T> Of<T>() where T : TorrentEvent => [.. Published.Select(p => p.Event).OfType<T>()];
}
