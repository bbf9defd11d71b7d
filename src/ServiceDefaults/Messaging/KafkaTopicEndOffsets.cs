using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>Reads how far a topic's log reaches: the sum of its partitions' end offsets (high watermarks).</summary>
public interface ITopicEndOffsets
{
    /// <summary>
    /// The sum of every partition's end offset, or null when the brokers do not answer or the topic does not exist (where
    /// brokers create topics on first use, as the embedded one does, asking creates it and the sum is 0).
    /// </summary>
    Task<long?> SumAsync(string topic, CancellationToken cancellationToken);
}

/// <summary>
/// <see cref="ITopicEndOffsets"/> against the brokers: metadata for the partitions, then each partition's watermarks.
/// End offsets only ever grow while a topic lives (compaction and retention remove records, not offsets), so a sum lower
/// than one seen before means the topic was deleted and created again, or the broker lost its log.
/// </summary>
public sealed class KafkaTopicEndOffsets(IOptions<KafkaMessagingOptions> options, IHostEnvironment environment) : ITopicEndOffsets, IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);
    private readonly Lock _gate = new();
    private IAdminClient? _admin;
    private IConsumer<Ignore, Ignore>? _consumer;

    public Task<long?> SumAsync(string topic, CancellationToken cancellationToken) =>
        // The client calls block; keep them off the caller's thread.
        Task.Run(() => Sum(topic), cancellationToken);

    private long? Sum(string topic)
    {
        lock (_gate)
        {
            EnsureClients();
            Metadata metadata;
            try
            {
                metadata = _admin!.GetMetadata(topic, Timeout);
            }
            catch (KafkaException)
            {
                return null;
            }
            var found = metadata.Topics.FirstOrDefault(t => t.Topic == topic);
            if (found is null || found.Error.IsError || found.Partitions.Count == 0)
            {
                return null;
            }
            long sum = 0;
            foreach (var partition in found.Partitions)
            {
                try
                {
                    sum += _consumer!.QueryWatermarkOffsets(new TopicPartition(topic, partition.PartitionId), Timeout).High.Value;
                }
                catch (KafkaException)
                {
                    return null;
                }
            }
            return sum;
        }
    }

    private void EnsureClients()
    {
        if (_admin is not null)
        {
            return;
        }
        KafkaNativeLibrary.EnsureLoaded();
        var o = options.Value;
        var clientId = (o.ClientId ?? environment.ApplicationName) + "-offsets";
        // The consumer never subscribes or commits: it only asks for watermarks, so its group id joins no group.
        var consumer = new ConsumerConfig { BootstrapServers = o.RequireBootstrapServers(), ClientId = clientId, GroupId = clientId, EnableAutoCommit = false };
        o.ApplySettings(consumer, o.ConsumerSettings);
        o.ConfigureConsumer?.Invoke(consumer);
        // The admin client connects as the consumers do (security settings included), without their consumer-only keys.
        var admin = new AdminClientConfig(consumer.Where(kv => kv.Key is not ("group.id" or "enable.auto.commit")).ToDictionary());
        _admin = new AdminClientBuilder(admin).SetLogHandler((_, _) => { }).Build();
        _consumer = new ConsumerBuilder<Ignore, Ignore>(consumer).SetLogHandler((_, _) => { }).Build();
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _consumer?.Close();
            _consumer?.Dispose();
            _admin?.Dispose();
        }
    }
}
