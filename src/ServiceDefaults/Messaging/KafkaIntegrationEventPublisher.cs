using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Confluent.Kafka;
using TorrentEdge.Contracts;

namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>Publishes integration events as JSON to Kafka with their type, schema version and W3C trace context in headers.</summary>
internal sealed class KafkaIntegrationEventPublisher(KafkaProducerHost host, MessagingTelemetry telemetry) : IIntegrationEventPublisher
{
    // Header values that repeat from message to message, encoded once (Confluent.Kafka copies them into each message).
    private static readonly byte[] JsonContentType = Encoding.UTF8.GetBytes(KafkaHeaders.JsonContentType);
    private static readonly ConcurrentDictionary<Type, byte[]> TypeNames = new();
    private static readonly byte[][] SchemaVersions = [.. Enumerable.Range(0, 8).Select(v => Encoding.UTF8.GetBytes(v.ToString(CultureInfo.InvariantCulture)))];

    public Task PublishAsync<TEvent>(string topic, string key, TEvent @event, CancellationToken cancellationToken = default)
        where TEvent : IntegrationEvent
    {
        ArgumentNullException.ThrowIfNull(@event);
        return PublishSerializedAsync(topic, key, @event, IntegrationEventJson.SerializeToUtf8Bytes(@event), cancellationToken);
    }

    public Task PublishSerializedAsync(string topic, string key, IntegrationEvent @event, byte[] utf8Json, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(@event);
        ArgumentNullException.ThrowIfNull(utf8Json);

        if (!MessagingTelemetry.ActivitySource.HasListeners() && !cancellationToken.CanBeCanceled)
        {
            return ProduceUntracedAsync(topic, Message(key, @event, utf8Json));
        }
        return ProduceAsync(topic, key, @event, utf8Json, cancellationToken);
    }

    /// <summary>
    /// When someone listens for activities, or with a cancellation token: Confluent.Kafka's ProduceAsync, whose task hands
    /// each acknowledgement to the thread pool.
    /// </summary>
    private async Task ProduceAsync(string topic, string key, IntegrationEvent @event, byte[] utf8Json, CancellationToken cancellationToken)
    {
        // Started here, in the async method, so that it is Activity.Current only until this publish ends; not even its
        // name is built when nobody listens.
        using var activity = MessagingTelemetry.ActivitySource.HasListeners()
            ? MessagingTelemetry.ActivitySource.StartActivity(topic + " publish", ActivityKind.Producer)
            : null;
        if (activity is not null)
        {
            activity.SetTag("messaging.system", "kafka");
            activity.SetTag("messaging.destination.name", topic);
            activity.SetTag("messaging.kafka.message.key", key);
            activity.SetTag("messaging.message.id", @event.Id.ToString());
        }
        try
        {
            var result = await host.Producer.ProduceAsync(topic, Message(key, @event, utf8Json), cancellationToken).ConfigureAwait(false);
            activity?.SetTag("messaging.destination.partition.id", result.Partition.Value);
            activity?.SetTag("messaging.kafka.offset", result.Offset.Value);
            telemetry.Published(topic);
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            throw;
        }
    }

    /// <summary>
    /// Otherwise (PeerWorker's outbox hands thousands over at once): produced with a delivery callback that completes
    /// the task. Its continuations still run on the thread pool, but only a task someone already awaits has one, so the
    /// outbox, which awaits its batch's tasks in order, resumes once for the many acknowledged meanwhile instead of
    /// once per event, and no async method per event waits in between.
    /// </summary>
    private Task ProduceUntracedAsync(string topic, Message<string, byte[]> message)
    {
        var delivered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            host.Producer.Produce(topic, message, report =>
            {
                // On librdkafka's polling thread: nothing here may block.
                if (report.Error.IsError)
                {
                    delivered.TrySetException(new ProduceException<string, byte[]>(report.Error,
                        new DeliveryResult<string, byte[]> { TopicPartitionOffset = report.TopicPartitionOffset, Status = report.Status, Message = message }));
                    return;
                }
                telemetry.Published(topic);
                delivered.TrySetResult();
            });
        }
        catch (Exception ex)
        {
            // As from ProduceAsync: a message refused at once (too large, queue full) fails the task.
            return Task.FromException(ex);
        }
        return delivered.Task;
    }

    private static Message<string, byte[]> Message(string key, IntegrationEvent @event, byte[] utf8Json)
    {
        // The runtime type, so an event passed as its base type still travels as what it is.
        var type = @event.GetType();
        var messageId = new byte[36];
        @event.Id.TryFormat(messageId, out _);
        var version = @event.SchemaVersion;
        var headers = new Headers
        {
            { KafkaHeaders.MessageType, TypeNames.GetOrAdd(type, static t => Encoding.UTF8.GetBytes(IntegrationEventTypes.NameOf(t))) },
            { KafkaHeaders.SchemaVersion, (uint)version < (uint)SchemaVersions.Length ? SchemaVersions[version] : Encoding.UTF8.GetBytes(version.ToString(CultureInfo.InvariantCulture)) },
            { KafkaHeaders.MessageId, messageId },
            { KafkaHeaders.ContentType, JsonContentType },
        };
        TraceContext.Inject(Activity.Current, headers);
        return new Message<string, byte[]> { Key = key, Value = utf8Json, Headers = headers };
    }
}

/// <summary>Carries the W3C trace context through Kafka headers with the process's <see cref="DistributedContextPropagator"/>.</summary>
internal static class TraceContext
{
    public static void Inject(Activity? activity, Headers headers)
    {
        if (activity is null)
        {
            return;
        }
        DistributedContextPropagator.Current.Inject(activity, headers, static (carrier, name, value) =>
        {
            if (carrier is Headers h && (name == KafkaHeaders.TraceParent || name == KafkaHeaders.TraceState))
            {
                h.Remove(name);
                h.Add(name, Encoding.UTF8.GetBytes(value));
            }
        });
    }

    public static ActivityContext Extract(Headers? headers)
    {
        if (headers is null)
        {
            return default;
        }
        DistributedContextPropagator.Current.ExtractTraceIdAndState(headers, static (object? carrier, string name, out string? value, out IEnumerable<string>? values) =>
        {
            values = null;
            value = carrier is Headers h && h.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;
        }, out var traceParent, out var traceState);
        return ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var context) ? context : default;
    }
}
