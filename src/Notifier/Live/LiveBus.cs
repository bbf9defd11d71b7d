using System.Text.Json;
using StackExchange.Redis;

namespace TorrentEdge.Notifier.Live;

/// <summary>
/// Carries each event from the replica that consumed it from Kafka to every replica, which hands it to its own
/// connections. One Kafka consumer group means each event is consumed by one replica; the bus then reaches each
/// interested client once, whichever replica holds its connection.
/// </summary>
public interface ILiveBus
{
    Task PublishAsync(LiveMessage message, CancellationToken cancellationToken);
}

/// <summary>One replica, no Redis: the events go straight to this replica's connections.</summary>
public sealed class LocalLiveBus(LiveConnections connections) : ILiveBus
{
    public Task PublishAsync(LiveMessage message, CancellationToken cancellationToken)
    {
        connections.Dispatch(message);
        return Task.CompletedTask;
    }
}

/// <summary>
/// Redis pub/sub between replicas (the channel <see cref="Channel"/>). Redis delivers a publication to each subscribed
/// replica once, in order per publisher; a replica that is disconnected from Redis misses what is published meanwhile,
/// as a SignalR backplane would.
/// </summary>
public sealed partial class RedisLiveBus(IConnectionMultiplexer redis, LiveConnections connections, ILogger<RedisLiveBus> logger)
    : BackgroundService, ILiveBus
{
    public static readonly RedisChannel Channel = RedisChannel.Literal("TorrentEdge.Notifier.live");

    public async Task PublishAsync(LiveMessage message, CancellationToken cancellationToken)
    {
        var bytes = Serialize(message);
        await redis.GetSubscriber().PublishAsync(Channel, bytes).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var queue = await redis.GetSubscriber().SubscribeAsync(Channel).ConfigureAwait(false);
        // Sequential handling keeps the order of events; each one only queues into connection buffers, so it is quick.
        queue.OnMessage(m =>
        {
            try
            {
                connections.Dispatch(Deserialize(m.Message!));
            }
            catch (Exception ex)
            {
                LogBadMessage(logger, ex);
            }
        });
        try
        {
            await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        await queue.UnsubscribeAsync().ConfigureAwait(false);
    }

    public static byte[] Serialize(LiveMessage m)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("n", m.Name);
            w.WriteString("h", m.InfoHash);
            w.WriteStartArray("u");
            foreach (var u in m.Users)
            {
                w.WriteStringValue(u);
            }
            w.WriteEndArray();
            w.WriteBoolean("s", m.SubscribersOnly);
            w.WriteBoolean("c", m.Coalesces);
            w.WriteNumber("t", m.PublishedAtMs);
            w.WritePropertyName("p");
            m.Payload.WriteTo(w);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static LiveMessage Deserialize(byte[] bytes)
    {
        using var doc = JsonDocument.Parse(bytes);
        var r = doc.RootElement;
        return new LiveMessage(
            r.GetProperty("n").GetString()!,
            r.GetProperty("h").GetString()!,
            [.. r.GetProperty("u").EnumerateArray().Select(u => u.GetString()!)],
            r.GetProperty("s").GetBoolean(),
            r.GetProperty("c").GetBoolean(),
            r.GetProperty("p").Clone())
        {
            PublishedAtMs = r.GetProperty("t").GetInt64(),
        };
    }

    [LoggerMessage(LogLevel.Warning, "A live event from the Redis channel could not be read")]
    private static partial void LogBadMessage(ILogger logger, Exception exception);
}
