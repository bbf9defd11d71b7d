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

    public async Task PublishSerializedAsync(string topic, string key, IntegrationEvent @event, byte[] utf8Json, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(@event);
        ArgumentNullException.ThrowIfNull(utf8Json);

        // The runtime type, so an event passed as its base type still travels as what it is.
        var type = @event.GetType();
        // Not even the activity's name is built when nobody listens.
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

        var message = new Message<string, byte[]> { Key = key, Value = utf8Json, Headers = headers };
        try
        {
            var result = await host.Producer.ProduceAsync(topic, message, cancellationToken).ConfigureAwait(false);
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
