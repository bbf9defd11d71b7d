using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using TorrentEdge.Contracts;

namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>Publishes integration events as JSON to Kafka with their type, schema version and W3C trace context in headers.</summary>
internal sealed class KafkaIntegrationEventPublisher(KafkaProducerHost host, MessagingTelemetry telemetry) : IIntegrationEventPublisher
{
    public async Task PublishAsync<TEvent>(string topic, string key, TEvent @event, CancellationToken cancellationToken = default)
        where TEvent : IntegrationEvent
    {
        ArgumentException.ThrowIfNullOrEmpty(topic);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(@event);

        // The runtime type, so an event passed as its base type still travels as what it is.
        var type = @event.GetType();
        using var activity = MessagingTelemetry.ActivitySource.StartActivity(topic + " publish", ActivityKind.Producer);
        activity?.SetTag("messaging.system", "kafka");
        activity?.SetTag("messaging.destination.name", topic);
        activity?.SetTag("messaging.kafka.message.key", key);
        activity?.SetTag("messaging.message.id", @event.Id.ToString());

        var headers = new Headers
        {
            { KafkaHeaders.MessageType, Encoding.UTF8.GetBytes(IntegrationEventTypes.NameOf(type)) },
            { KafkaHeaders.SchemaVersion, Encoding.UTF8.GetBytes(@event.SchemaVersion.ToString(CultureInfo.InvariantCulture)) },
            { KafkaHeaders.MessageId, Encoding.UTF8.GetBytes(@event.Id.ToString()) },
            { KafkaHeaders.ContentType, Encoding.UTF8.GetBytes(KafkaHeaders.JsonContentType) },
        };
        TraceContext.Inject(Activity.Current, headers);

        var message = new Message<string, byte[]>
        {
            Key = key,
            Value = JsonSerializer.SerializeToUtf8Bytes(@event, type, IntegrationEventJson.Options),
            Headers = headers,
        };
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
