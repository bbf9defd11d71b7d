using Confluent.Kafka;

namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>Settings shared by the producer and every subscription of a service.</summary>
public sealed class KafkaMessagingOptions
{
    /// <summary>Name of the connection string holding the bootstrap servers (<c>ConnectionStrings__kafka</c>).</summary>
    public const string DefaultConnectionName = "kafka";

    /// <summary>Comma-separated brokers; read from <c>ConnectionStrings:kafka</c> unless set.</summary>
    public string? BootstrapServers { get; set; }

    /// <summary>Client id sent to the brokers; defaults to the application name.</summary>
    public string? ClientId { get; set; }

    /// <summary>Contract types the consumers can read (<c>message-type</c> header).</summary>
    public IntegrationEventTypes EventTypes { get; } = new();

    /// <summary>Configuration section whose keys are librdkafka properties, passed through to every client.</summary>
    public const string ConfigurationSection = "Kafka";

    /// <summary>
    /// librdkafka properties for the producer and every consumer, from <c>Kafka:&lt;property&gt;</c> (e.g.
    /// <c>Kafka:security.protocol=SASL_SSL</c>, <c>Kafka:sasl.mechanism=SCRAM-SHA-512</c>, <c>Kafka:sasl.username</c>,
    /// <c>Kafka:sasl.password</c>, <c>Kafka:ssl.ca.location</c>); <c>Kafka:Producer:*</c> and <c>Kafka:Consumer:*</c> for one
    /// kind of client only. The values are never logged.
    /// </summary>
    public Dictionary<string, string> ClientSettings { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> ProducerSettings { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> ConsumerSettings { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// What the bridge relies on and configuration must not change: where to connect comes from the connection string, and
    /// the rest keeps delivery at least once (commit after handling, idempotent producer, acks from all replicas).
    /// </summary>
    public static readonly IReadOnlySet<string> ReservedSettings = new HashSet<string>(StringComparer.Ordinal)
    {
        "bootstrap.servers", "group.id", "enable.auto.commit", "enable.auto.offset.store", "enable.idempotence", "acks",
        "partition.assignment.strategy",
    };

    /// <summary>Reads the pass-through settings from the <see cref="ConfigurationSection"/> section.</summary>
    public void ReadSettings(Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        var section = configuration.GetSection(ConfigurationSection);
        foreach (var child in section.GetChildren())
        {
            var target = child.Key switch
            {
                "Producer" => ProducerSettings,
                "Consumer" => ConsumerSettings,
                _ => null,
            };
            if (target is null)
            {
                if (child.Value is not null)
                {
                    ClientSettings[child.Key] = child.Value;
                }
                continue;
            }
            foreach (var setting in child.GetChildren().Where(s => s.Value is not null))
            {
                target[setting.Key] = setting.Value!;
            }
        }
    }

    /// <summary>Applies the pass-through settings to a client's config; throws naming a reserved property.</summary>
    internal void ApplySettings(ClientConfig config, IReadOnlyDictionary<string, string> roleSettings)
    {
        config.SocketTimeoutMs ??= KafkaClientDefaults.SocketTimeoutMs;
        foreach (var (key, value) in ClientSettings.Concat(roleSettings))
        {
            if (ReservedSettings.Contains(key))
            {
                throw new InvalidOperationException(
                    $"{ConfigurationSection}:{key} cannot be set: the messaging bridge sets it (bootstrap servers come from ConnectionStrings:{DefaultConnectionName}).");
            }
            config.Set(key, value);
        }
    }

    /// <summary>Last word on the producer's librdkafka settings (e.g. security for a real cluster).</summary>
    public Action<ProducerConfig>? ConfigureProducer { get; set; }

    /// <summary>Last word on every consumer's librdkafka settings.</summary>
    public Action<ConsumerConfig>? ConfigureConsumer { get; set; }

    internal string RequireBootstrapServers() => string.IsNullOrWhiteSpace(BootstrapServers)
        ? throw new InvalidOperationException(
            $"Kafka is not configured: set ConnectionStrings:{DefaultConnectionName} (ConnectionStrings__{DefaultConnectionName}) to the bootstrap servers.")
        : BootstrapServers;
}

/// <summary>Client settings every Kafka client of ours starts from (a service's pass-through settings still override them).</summary>
internal static class KafkaClientDefaults
{
    /// <summary>
    /// socket.timeout.ms: 15 s instead of librdkafka's 60 s. A broker that stops answering without closing the connection
    /// (a crashed host, a cut-off network; the embedded cluster's brokers after an outage, measured here) leaves a request
    /// in flight until this timeout, and nothing on that connection moves before it: after a 30 s outage of every broker,
    /// fetches, a produce and then a metadata request each hung for 60 s, and the workers' events reached Catalog only
    /// 90 s after the brokers were back. Fetches are long polls of fetch.wait.max.ms (500 ms), JoinGroup has its own longer
    /// timeout, and a produce is retried by its outbox, so 15 s leaves a slow broker ample room.
    /// </summary>
    public const int SocketTimeoutMs = 15_000;
}

/// <summary>One consumer group on one topic, dispatching to the MassTransit consumers of the service (named options per subscription).</summary>
public sealed class KafkaSubscriptionOptions
{
    public string Topic { get; set; } = "";

    public string GroupId { get; set; } = "";

    /// <summary>Broker-side session timeout: how soon a dead member's partitions move to the others.</summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Longest time between polls before the member is considered stuck and leaves the group (handling and retries count).</summary>
    public TimeSpan MaxPollInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Delays between attempts of a failing consumer; their count is the number of retries. Then the message is dead-lettered.</summary>
    public IList<TimeSpan> RetryIntervals { get; set; } = [TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(5)];

    /// <summary>How often handled offsets are committed; <see cref="TimeSpan.Zero"/> commits after every message.</summary>
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Where a group without a committed offset starts.</summary>
    public AutoOffsetReset AutoOffsetReset { get; set; } = AutoOffsetReset.Earliest;

    /// <summary>Read every newly assigned partition from offset 0, whatever was committed (PeerWorker folds torrent-specs this way).</summary>
    public bool StartFromBeginningOnAssign { get; set; }

    /// <summary>Longest single poll; bounds how stale the health check's "last poll" can be while idle.</summary>
    public TimeSpan PollTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>The named-options key of a subscription, for <c>services.Configure&lt;KafkaSubscriptionOptions&gt;(name, ...)</c>.</summary>
    public static string NameFor(string topic, string groupId) => topic + "/" + groupId;
}
