using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.PeerWorker.Tests.Functional;

/// <summary>Reads torrent-events from the beginning on a thread of its own, for assertions on what the workers published.</summary>
internal sealed class TorrentEventsTap : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    public TorrentEventsTap(string bootstrapServers, int partitions)
    {
        _thread = new Thread(() =>
        {
            using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
            {
                BootstrapServers = bootstrapServers,
                GroupId = "test-tap",
                EnableAutoCommit = false,
            }).Build();
            consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(Topics.TorrentEvents, p, Offset.Beginning)));
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
                    if (result?.Message?.Value is { } value
                        && result.Message.Headers.TryGetLastBytes(KafkaHeaders.MessageType, out var type)
                        && new IntegrationEventTypes().TryGet(Encoding.UTF8.GetString(type), out var contract, out _))
                    {
                        Events.Enqueue((TorrentEvent)JsonSerializer.Deserialize(value, contract, IntegrationEventJson.Options)!);
                    }
                }
                catch (ConsumeException)
                {
                }
            }
            consumer.Close();
        })
        { IsBackground = true, Name = "torrent-events tap" };
        _thread.Start();
    }

    public ConcurrentQueue<TorrentEvent> Events { get; } = new();

    public IReadOnlyList<T> Of<T>() where T : TorrentEvent => [.. Events.OfType<T>()];

    public void Dispose()
    {
        _stop.Cancel();
        _thread.Join(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }
}
