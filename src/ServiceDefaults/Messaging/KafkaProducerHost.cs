using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>The one idempotent producer of a process, shared by the publisher and the dead-letter path.</summary>
internal sealed class KafkaProducerHost : IDisposable
{
    private readonly Lazy<IProducer<string, byte[]>> _producer;

    public KafkaProducerHost(IOptions<KafkaMessagingOptions> options, IHostEnvironment environment, ILogger<KafkaProducerHost> logger)
    {
        _producer = new Lazy<IProducer<string, byte[]>>(() =>
        {
            KafkaNativeLibrary.EnsureLoaded();
            var o = options.Value;
            var config = new ProducerConfig
            {
                BootstrapServers = o.RequireBootstrapServers(),
                ClientId = o.ClientId ?? environment.ApplicationName,
                // Idempotence keeps per-partition order and drops duplicates from the producer's own retries.
                EnableIdempotence = true,
                Acks = Acks.All,
                LingerMs = 5,
                // Publishers read only the partition, offset and error of a delivery report; by default Confluent.Kafka
                // also copies every header, the timestamp and the status out of librdkafka for each message.
                DeliveryReportFields = "none",
            };
            o.ApplySettings(config, o.ProducerSettings);
            o.ConfigureProducer?.Invoke(config);
            return new ProducerBuilder<string, byte[]>(config)
                .SetLogHandler((_, message) => KafkaLogging.Forward(logger, message))
                .SetErrorHandler((_, error) => KafkaLogging.ForwardError(logger, error))
                .Build();
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public IProducer<string, byte[]> Producer => _producer.Value;

    public void Dispose()
    {
        if (_producer.IsValueCreated)
        {
            // Deliver what is still queued; ProduceAsync callers are waiting for it.
            _producer.Value.Flush(TimeSpan.FromSeconds(5));
            _producer.Value.Dispose();
        }
    }
}
