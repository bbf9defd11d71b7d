using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TorrentEdge.Contracts.Users;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.ServiceDefaults.Auth;

/// <summary>
/// Folds <c>torrent-users</c> into the <see cref="UserAccessList"/>: every partition from offset 0, assigned by hand with no
/// consumer group and no commits, since every replica needs the whole topic; marks the list caught up when each partition
/// reached its end once, then keeps following the topic.
/// </summary>
public sealed partial class UserAccessConsumer(
    UserAccessList list,
    IEnumerable<IUserAccessListener> listeners,
    IOptions<UserAccessOptions> options,
    IOptions<KafkaMessagingOptions> messagingOptions,
    IConfiguration configuration,
    IHostEnvironment environment,
    ILogger<UserAccessConsumer> logger) : BackgroundService
{
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan PollTimeout = TimeSpan.FromMilliseconds(200);
    private readonly IUserAccessListener[] _listeners = listeners.ToArray();

    // Consume blocks its thread: keep it off the thread pool's request threads.
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        => Task.Factory.StartNew(() => Run(stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        var topic = options.Value.Topic;
        var backoff = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                using var consumer = BuildConsumer(out var partitions);
                // Folding the same records again after a reconnect changes nothing (versions), so each attempt starts at 0.
                consumer.Assign(partitions.Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
                var notAtEnd = partitions.Select(p => p.Value).ToHashSet();
                LogReading(logger, topic, partitions.Count);
                backoff = TimeSpan.FromMilliseconds(200);
                while (!stoppingToken.IsCancellationRequested)
                {
                    var result = consumer.Consume(PollTimeout);
                    if (result is null)
                    {
                        continue;
                    }
                    if (result.IsPartitionEOF)
                    {
                        if (notAtEnd.Remove(result.Partition.Value) && notAtEnd.Count == 0 && !list.IsCaughtUp)
                        {
                            list.MarkCaughtUp();
                            LogCaughtUp(logger, topic, list.Count);
                        }
                        continue;
                    }
                    Fold(result);
                }
                consumer.Close();
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Whatever went wrong, the host must not stop: until the list is read the replica fails closed (and is not ready).
                LogReadFailed(logger, e, topic, backoff);
                if (stoppingToken.WaitHandle.WaitOne(backoff))
                {
                    return;
                }
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }

    private void Fold(ConsumeResult<string?, byte[]?> result)
    {
        // Tombstones and other record types carry no status; a record we cannot read must not stop the list either
        // (there is no dead-letter topic for a reader without a group): log it and go on.
        if (result.Message.Value is not { } value
            || !result.Message.Headers.TryGetLastBytes(KafkaHeaders.MessageType, out var typeBytes)
            || Encoding.UTF8.GetString(typeBytes) != nameof(UserAccessChanged))
        {
            return;
        }
        UserAccessChanged? change;
        try
        {
            change = JsonSerializer.Deserialize<UserAccessChanged>(value, IntegrationEventJson.Options);
        }
        catch (JsonException e)
        {
            LogUnreadable(logger, e, result.Partition.Value, result.Offset.Value);
            return;
        }
        if (change is null || string.IsNullOrEmpty(change.UserId) || change.Role is null)
        {
            LogUnreadable(logger, null, result.Partition.Value, result.Offset.Value);
            return;
        }
        if (list.Apply(change) is not { } access)
        {
            return;
        }
        LogChanged(logger, access.UserId, access.Disabled, access.Role);
        foreach (var listener in _listeners)
        {
            try
            {
                listener.OnUserAccessChanged(access);
            }
            catch (Exception e)
            {
                LogListenerFailed(logger, e, listener.GetType().Name, access.UserId);
            }
        }
    }

    private IConsumer<string?, byte[]?> BuildConsumer(out IReadOnlyList<Partition> partitions)
    {
        KafkaNativeLibrary.EnsureLoaded();
        var messaging = messagingOptions.Value;
        if (string.IsNullOrWhiteSpace(messaging.BootstrapServers))
        {
            // AddKafkaMessaging was not called in this service: read the same configuration it would.
            messaging.BootstrapServers = configuration.GetConnectionString(KafkaMessagingOptions.DefaultConnectionName);
            messaging.ReadSettings(configuration);
        }
        var config = new ConsumerConfig
        {
            BootstrapServers = messaging.RequireBootstrapServers(),
            ClientId = (messaging.ClientId ?? environment.ApplicationName) + "-users",
            // Confluent.Kafka requires a group id, but partitions are assigned by hand and nothing is ever committed: this
            // replica joins no group and the brokers store nothing for it, so every replica reads every partition.
            GroupId = $"{environment.ApplicationName}-users-{Guid.NewGuid():N}",
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = true,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        messaging.ApplySettings(config, messaging.ConsumerSettings);
        messaging.ConfigureConsumer?.Invoke(config);

        var admin = new AdminClientConfig(config.Where(kv => kv.Key is not ("enable.auto.commit" or "enable.auto.offset.store"
            or "enable.partition.eof" or "auto.offset.reset" or "group.id")).ToDictionary());
        using (var adminClient = new AdminClientBuilder(admin).SetLogHandler((_, m) => KafkaLogging.Forward(logger, m)).Build())
        {
            var metadata = adminClient.GetMetadata(options.Value.Topic, MetadataTimeout);
            var found = metadata.Topics.FirstOrDefault(t => t.Topic == options.Value.Topic);
            if (found is null || found.Error.IsError || found.Partitions.Count == 0)
            {
                throw new InvalidOperationException($"Topic {options.Value.Topic} has no partitions ({found?.Error.Reason ?? "not found"}).");
            }
            partitions = found.Partitions.Select(p => new Partition(p.PartitionId)).ToList();
        }
        return new ConsumerBuilder<string?, byte[]?>(config)
            .SetErrorHandler((_, error) => LogConsumeError(logger, options.Value.Topic, error.Reason))
            .SetLogHandler((_, m) => KafkaLogging.Forward(logger, m))
            .Build();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Reading user access statuses from {Topic} ({Partitions} partitions, from the beginning)")]
    private static partial void LogReading(ILogger logger, string topic, int partitions);

    [LoggerMessage(Level = LogLevel.Information, Message = "User access list caught up with {Topic}: {Users} users")]
    private static partial void LogCaughtUp(ILogger logger, string topic, int users);

    [LoggerMessage(Level = LogLevel.Information, Message = "User {UserId}: disabled {Disabled}, role {Role}")]
    private static partial void LogChanged(ILogger logger, string userId, bool disabled, string role);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading {Topic} failed; starting again from the beginning in {Backoff}")]
    private static partial void LogReadFailed(ILogger logger, Exception exception, string topic, TimeSpan backoff);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Skipped an unreadable user access record at partition {Partition} offset {Offset}")]
    private static partial void LogUnreadable(ILogger logger, Exception? exception, int partition, long offset);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Listener} failed on the access change of user {UserId}")]
    private static partial void LogListenerFailed(ILogger logger, Exception exception, string listener, string userId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Consuming {Topic}: {Reason}")]
    private static partial void LogConsumeError(ILogger logger, string topic, string reason);
}

/// <summary>Ready once the user access list caught up with its topic: before that the replica refuses (or soon will refuse) tokens.</summary>
internal sealed class UserAccessHealthCheck(UserAccessList list) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(list.IsCaughtUp
            ? HealthCheckResult.Healthy($"{list.Count} users known")
            : HealthCheckResult.Unhealthy("The user access list has not read torrent-users to its end yet."));
}
