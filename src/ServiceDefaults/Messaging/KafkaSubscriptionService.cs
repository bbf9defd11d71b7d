using System.Buffers.Text;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Text;
using System.Threading.Channels;
using System.Text.Json;
using Confluent.Kafka;
using MassTransit;
using MassTransit.Mediator;
using Headers = Confluent.Kafka.Headers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using TorrentEdge.Contracts;

namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>
/// The bridge where MassTransit's Kafka rider would go: consumes one topic in one consumer group and hands each message to the
/// service's MassTransit consumers through the mediator, with retry. An offset is stored only once its message was handled or
/// dead-lettered, and committed after that; nothing is dropped.
/// </summary>
internal sealed partial class KafkaSubscriptionService(
    KafkaSubscriptionState state,
    KafkaSubscriptionOptions options,
    IOptions<KafkaMessagingOptions> messagingOptions,
    KafkaProducerHost producerHost,
    IMediator mediator,
    IEnumerable<IKafkaPartitionListener> listeners,
    MessagingTelemetry telemetry,
    IHostEnvironment environment,
    TimeProvider time,
    ILogger<KafkaSubscriptionService> logger) : BackgroundService
{
    private readonly IKafkaPartitionListener[] _listeners = [.. listeners];
    private bool _offsetsStored;
    // The next offset to commit per partition, handed to librdkafka only when committing: one native call per partition
    // and commit instead of one per message.
    private readonly Dictionary<TopicPartition, Offset> _handled = [];
    private readonly Lock _handledGate = new();
    private long _lastCommitTimestamp;
    // Messages read and parsed by the polling thread and not yet handled by the dispatching one.
    private int _unhandled;
    private Task _dispatch = Task.CompletedTask;

    /// <summary>How many parsed messages the polling thread may read ahead of the one being handled.</summary>
    internal const int ReadAhead = 256;

    /// <summary>How long the loop waits before building a new consumer after a fatal error.</summary>
    internal static readonly TimeSpan RestartDelay = TimeSpan.FromSeconds(5);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
        // Consume blocks its thread; keep that off the host's startup path.
        => Task.Run(() => SuperviseAsync(stoppingToken), CancellationToken.None);

    // A service must not die with its consumer: without Kafka configured it runs unhealthy (the health check says why),
    // and after a fatal consumer error it starts a new consumer, which rejoins the group at the committed offsets.
    private async Task SuperviseAsync(CancellationToken stoppingToken)
    {
        if (string.IsNullOrWhiteSpace(messagingOptions.Value.BootstrapServers))
        {
            state.Fault = $"Kafka is not configured (ConnectionStrings:{KafkaMessagingOptions.DefaultConnectionName}).";
            LogNotConfigured(logger, options.Topic, options.GroupId);
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await RunAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                state.Fault = ex.Message;
                LogLoopFailed(logger, ex, options.Topic, options.GroupId);
                try
                {
                    await Task.Delay(RestartDelay, time, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task RunAsync(CancellationToken stoppingToken)
    {
        IConsumer<string?, byte[]?>? consumer = null;
        // Two threads, one order: this one polls and parses (deserializes) up to ReadAhead messages ahead, the dispatch
        // task hands them to the mediator one at a time in the order read, so consumers see what they saw before, while
        // parsing (about two fifths of the per-message cost) runs beside their handling.
        var parsed = Channel.CreateBounded<Parsed>(new BoundedChannelOptions(ReadAhead) { SingleReader = true, SingleWriter = true });
        using var dispatchStop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        try
        {
            _offsetsStored = false;
            _handled.Clear();
            _unhandled = 0;
            _dispatch = Task.Run(() => DispatchAsync(parsed.Reader, dispatchStop.Token), CancellationToken.None);
            // A dispatch that ends (stopping, or an unexpected error) ends polling too.
            _ = _dispatch.ContinueWith(static (_, cts) => ((CancellationTokenSource)cts!).Cancel(), dispatchStop, CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            consumer = BuildConsumer();
            consumer.Subscribe(options.Topic);
            state.StartedAt = time.GetUtcNow();
            state.Running = true;
            state.Fault = null;
            LogStarted(logger, options.Topic, options.GroupId);
            _lastCommitTimestamp = time.GetTimestamp();

            while (!dispatchStop.IsCancellationRequested)
            {
                ConsumeResult<string?, byte[]?>? result;
                try
                {
                    result = consumer.Consume(options.PollTimeout);
                }
                catch (ConsumeException ex) when (!ex.Error.IsFatal)
                {
                    LogConsumeError(logger, options.Topic, options.GroupId, ex.Error.Reason);
                    continue;
                }
                state.Polled(time.GetUtcNow());

                if (result is not null && !result.IsPartitionEOF)
                {
                    Interlocked.Increment(ref _unhandled);
                    await parsed.Writer.WriteAsync(Parse(result), dispatchStop.Token).ConfigureAwait(false);
                }
                if (time.GetElapsedTime(_lastCommitTimestamp) >= options.CommitInterval)
                {
                    Commit(consumer);
                }
            }
        }
        catch (OperationCanceledException) when (dispatchStop.IsCancellationRequested)
        {
            // Shutting down in the middle of a message: its offset was not stored, so it is handled again after a restart.
        }
        finally
        {
            parsed.Writer.TryComplete();
            dispatchStop.Cancel();
            Exception? dispatchFailure = null;
            try
            {
                await _dispatch.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (dispatchStop.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                // Rethrown (for the supervisor) once the consumer below is closed.
                dispatchFailure = ex;
            }
            state.Running = false;
            state.ClearAssignment();
            if (consumer is not null)
            {
                Commit(consumer);
                try
                {
                    consumer.Close();
                }
                catch (KafkaException ex)
                {
                    LogConsumeError(logger, options.Topic, options.GroupId, ex.Error.Reason);
                }
                consumer.Dispose();
            }
            if (dispatchFailure is not null)
            {
                ExceptionDispatchInfo.Throw(dispatchFailure);
            }
        }
    }

    private IConsumer<string?, byte[]?> BuildConsumer()
    {
        KafkaNativeLibrary.EnsureLoaded();
        var messaging = messagingOptions.Value;
        var sessionMs = (int)options.SessionTimeout.TotalMilliseconds;
        var config = new ConsumerConfig
        {
            BootstrapServers = messaging.RequireBootstrapServers(),
            ClientId = messaging.ClientId ?? environment.ApplicationName,
            GroupId = options.GroupId,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            AutoOffsetReset = options.AutoOffsetReset,
            // Cooperative-sticky moves only the partitions that must move when members come and go.
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            SessionTimeoutMs = sessionMs,
            HeartbeatIntervalMs = Math.Max(100, Math.Min(3000, sessionMs / 3)),
            MaxPollIntervalMs = Math.Max(sessionMs, (int)options.MaxPollInterval.TotalMilliseconds),
            EnablePartitionEof = false,
            // Only the headers are marshalled into each ConsumeResult: the topic is the subscription's (no string per
            // message) and the timestamp is not used.
            ConsumeResultFields = "headers",
        };
        messaging.ApplySettings(config, messaging.ConsumerSettings);
        messaging.ConfigureConsumer?.Invoke(config);

        return new ConsumerBuilder<string?, byte[]?>(config)
            .SetErrorHandler((_, error) => LogConsumeError(logger, options.Topic, options.GroupId, error.Reason))
            .SetLogHandler((_, message) => KafkaLogging.Forward(logger, message))
            .SetPartitionsAssignedHandler((_, partitions) =>
            {
                state.Assign(partitions);
                LogAssigned(logger, options.Topic, options.GroupId, string.Join(',', partitions.Select(p => p.Partition.Value)));
                Notify(partitions, assigned: true, lost: false);
                var start = options.StartFromBeginningOnAssign ? Offset.Beginning : Offset.Unset;
                return partitions.Select(p => new TopicPartitionOffset(p, start));
            })
            .SetPartitionsRevokedHandler((c, offsets) =>
            {
                // Keep what was handled on these partitions before another member takes them: everything read first.
                WaitForDispatch();
                Commit(c);
                var partitions = offsets.Select(o => o.TopicPartition).ToList();
                lock (_handledGate)
                {
                    partitions.ForEach(p => _handled.Remove(p));
                }
                state.Revoke(partitions);
                LogRevoked(logger, options.Topic, options.GroupId, string.Join(',', partitions.Select(p => p.Partition.Value)));
                Notify(partitions, assigned: false, lost: false);
            })
            .SetPartitionsLostHandler((_, offsets) =>
            {
                // Another member may have handled them since: what was handled here is not committed.
                WaitForDispatch();
                var partitions = offsets.Select(o => o.TopicPartition).ToList();
                lock (_handledGate)
                {
                    partitions.ForEach(p => _handled.Remove(p));
                }
                state.Revoke(partitions);
                LogRevoked(logger, options.Topic, options.GroupId, string.Join(',', partitions.Select(p => p.Partition.Value)));
                Notify(partitions, assigned: false, lost: true);
            })
            .Build();
    }

    private void Notify(List<TopicPartition> partitions, bool assigned, bool lost)
    {
        if (_listeners.Length == 0 || partitions.Count == 0)
        {
            return;
        }
        var change = new KafkaPartitionsChange(options.Topic, options.GroupId, [.. partitions.Select(p => p.Partition.Value)], lost);
        foreach (var listener in _listeners)
        {
            try
            {
                if (assigned)
                {
                    listener.OnPartitionsAssigned(change);
                }
                else
                {
                    listener.OnPartitionsRevoked(change);
                }
            }
            catch (Exception ex)
            {
                // A listener's bug must not break the group protocol.
                LogListenerFailed(logger, ex, options.Topic, options.GroupId);
            }
        }
    }

    private void Commit(IConsumer<string?, byte[]?> consumer)
    {
        lock (_handledGate)
        {
            CommitLocked(consumer);
        }
    }

    private void CommitLocked(IConsumer<string?, byte[]?> consumer)
    {
        if (!_offsetsStored)
        {
            return;
        }
        try
        {
            foreach (var (partition, offset) in _handled)
            {
                try
                {
                    consumer.StoreOffset(new TopicPartitionOffset(partition, offset));
                }
                catch (KafkaException ex) when (ex.Error.Code == ErrorCode.Local_State)
                {
                    // No longer assigned (revoked between): its new owner handles from the last commit.
                }
            }
            _handled.Clear();
            consumer.Commit();
            _offsetsStored = false;
            _lastCommitTimestamp = time.GetTimestamp();
        }
        catch (KafkaException ex) when (ex.Error.Code == ErrorCode.Local_NoOffset)
        {
            _offsetsStored = false;
        }
        catch (KafkaException ex)
        {
            // Stored offsets stay stored; the next commit carries them.
            LogCommitFailed(logger, options.Topic, options.GroupId, ex.Error.Reason);
        }
    }

    /// <summary>A message as read: its event type and the deserialized event, or why it cannot be handed to a consumer.</summary>
    private sealed record Parsed(ConsumeResult<string?, byte[]?> Result, Type? Type, string? TypeName, object? Message, string? Error, string? ErrorType);

    /// <summary>On the polling thread: everything about a message that does not depend on the ones before it.</summary>
    private Parsed Parse(ConsumeResult<string?, byte[]?> result)
    {
        var headers = result.Message.Headers;
        if (result.Message.Value is null)
        {
            return new Parsed(result, null, null, null, null, null);
        }
        // Looked up from the header's bytes: no string per message.
        if (headers is null || !headers.TryGetLastBytes(KafkaHeaders.MessageType, out var typeBytes)
            || !messagingOptions.Value.EventTypes.TryGet(typeBytes, out var typeName, out var type, out var supportedVersion))
        {
            return new Parsed(result, null, null, null, $"Unknown message type '{GetString(headers, KafkaHeaders.MessageType)}'.", "UnknownMessageType");
        }
        var version = headers.TryGetLastBytes(KafkaHeaders.SchemaVersion, out var versionBytes)
            && Utf8Parser.TryParse(versionBytes, out int v, out var consumed) && consumed == versionBytes.Length && v >= 0 ? v : 1;
        if (version > supportedVersion)
        {
            return new Parsed(result, type, typeName, null, $"Schema version {version} of {typeName} is newer than the supported {supportedVersion}.",
                "UnsupportedSchemaVersion");
        }
        try
        {
            var message = JsonSerializer.Deserialize(result.Message.Value, type, IntegrationEventJson.Options)
                ?? throw new JsonException("The message body is JSON null.");
            return new Parsed(result, type, typeName, message, null, null);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException)
        {
            return new Parsed(result, type, typeName, null, ex.Message, ex.GetType().FullName!);
        }
    }

    /// <summary>Hands the parsed messages to the consumers one at a time, in the order read, and marks each handled.</summary>
    private async Task DispatchAsync(ChannelReader<Parsed> reader, CancellationToken cancellationToken)
    {
        await foreach (var parsed in reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            await HandleAsync(parsed, cancellationToken).ConfigureAwait(false);
            lock (_handledGate)
            {
                _handled[PartitionOf(parsed.Result)] = parsed.Result.Offset + 1;
                _offsetsStored = true;
            }
            Interlocked.Decrement(ref _unhandled);
        }
    }

    // ConsumeResults carry no topic (ConsumeResultFields): the subscription's one topic, one instance per partition.
    private TopicPartition[] _partitions = [];

    private TopicPartition PartitionOf(ConsumeResult<string?, byte[]?> result)
    {
        var partition = result.Partition.Value;
        var partitions = _partitions;
        if (partition >= partitions.Length)
        {
            var grown = new TopicPartition[partition + 1];
            partitions.CopyTo(grown, 0);
            _partitions = partitions = grown;
        }
        return partitions[partition] ??= new TopicPartition(options.Topic, result.Partition);
    }

    /// <summary>
    /// On the polling thread, in a rebalance callback: waits until every message read so far was handled (or the dispatch
    /// ended), so that what is committed, and what is dropped for partitions that go, covers all of them.
    /// </summary>
    private void WaitForDispatch()
    {
        while (Volatile.Read(ref _unhandled) > 0 && !_dispatch.IsCompleted)
        {
            Thread.Sleep(1);
        }
    }

    /// <summary>Returns once the message was handled or dead-lettered; throws only when stopping.</summary>
    private async Task HandleAsync(Parsed parsed, CancellationToken cancellationToken)
    {
        var result = parsed.Result;
        var headers = result.Message.Headers;
        // The trace context is read, and the activity named, only when someone listens.
        using var activity = MessagingTelemetry.ActivitySource.HasListeners()
            ? MessagingTelemetry.ActivitySource.StartActivity(options.Topic + " process", ActivityKind.Consumer, TraceContext.Extract(headers))
            : null;
        if (activity is not null)
        {
            activity.SetTag("messaging.system", "kafka");
            activity.SetTag("messaging.destination.name", options.Topic);
            activity.SetTag("messaging.consumer.group.name", options.GroupId);
            activity.SetTag("messaging.destination.partition.id", result.Partition.Value);
            activity.SetTag("messaging.kafka.offset", result.Offset.Value);
            activity.SetTag("messaging.kafka.message.key", result.Message.Key);
        }

        if (result.Message.Value is null)
        {
            // A tombstone (compaction's delete marker): there is no event to hand to a consumer.
            LogTombstone(logger, options.Topic, result.Partition.Value, result.Offset.Value);
            return;
        }
        if (parsed.Message is not { } message || parsed.Type is not { } type || parsed.TypeName is not { } typeName)
        {
            await DeadLetterAsync(result, parsed.Error!, parsed.ErrorType!, cancellationToken).ConfigureAwait(false);
            return;
        }

        var source = Pipe.Execute<PublishContext>(context =>
        {
            context.Headers.Set(KafkaHeaders.SourceTopic, options.Topic);
            context.Headers.Set(KafkaHeaders.SourcePartition, result.Partition.Value);
            context.Headers.Set(KafkaHeaders.SourceOffset, result.Offset.Value);
            context.Headers.Set(KafkaHeaders.SourceKey, result.Message.Key);
        });

        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await mediator.Publish(message, type, source, cancellationToken).ConfigureAwait(false);
                telemetry.Consumed(options.Topic, options.GroupId);
                return;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                telemetry.Failed(options.Topic, options.GroupId);
                var error = Unwrap(ex);
                if (attempt >= options.RetryIntervals.Count)
                {
                    activity?.SetStatus(ActivityStatusCode.Error, error.Message);
                    await DeadLetterAsync(result, error.Message, error.GetType().FullName!, cancellationToken).ConfigureAwait(false);
                    return;
                }
                LogRetrying(logger, error, typeName, options.Topic, result.Partition.Value, result.Offset.Value, attempt + 1);
                await Task.Delay(options.RetryIntervals[attempt], time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task DeadLetterAsync(ConsumeResult<string?, byte[]?> result, string error, string errorType, CancellationToken cancellationToken)
    {
        var headers = new Headers();
        foreach (var header in result.Message.Headers ?? [])
        {
            headers.Add(header.Key, header.GetValueBytes());
        }
        headers.Add(KafkaHeaders.Error, Encoding.UTF8.GetBytes(error));
        headers.Add(KafkaHeaders.ErrorType, Encoding.UTF8.GetBytes(errorType));
        headers.Add(KafkaHeaders.OriginalTopic, Encoding.UTF8.GetBytes(options.Topic));
        headers.Add(KafkaHeaders.OriginalPartition, Encoding.UTF8.GetBytes(result.Partition.Value.ToString(CultureInfo.InvariantCulture)));
        headers.Add(KafkaHeaders.OriginalOffset, Encoding.UTF8.GetBytes(result.Offset.Value.ToString(CultureInfo.InvariantCulture)));
        headers.Add(KafkaHeaders.ConsumerGroup, Encoding.UTF8.GetBytes(options.GroupId));

        var deadLetterTopic = options.Topic + Topics.DeadLetterSuffix;
        var message = new Message<string, byte[]> { Key = result.Message.Key!, Value = result.Message.Value!, Headers = headers };
        LogDeadLettering(logger, options.Topic, result.Partition.Value, result.Offset.Value, deadLetterTopic, error);

        // Never drop: until the dead-letter copy is acknowledged the offset stays unstored, and we keep trying.
        var delay = TimeSpan.FromMilliseconds(200);
        while (true)
        {
            try
            {
                await producerHost.Producer.ProduceAsync(deadLetterTopic, message, cancellationToken).ConfigureAwait(false);
                telemetry.DeadLettered(options.Topic, options.GroupId);
                return;
            }
            catch (ProduceException<string, byte[]> ex)
            {
                LogDeadLetterFailed(logger, deadLetterTopic, ex.Error.Reason);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
            }
        }
    }

    private static Exception Unwrap(Exception ex)
    {
        while (ex is AggregateException { InnerExceptions.Count: 1 } or RequestFaultException && ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }
        return ex;
    }

    private static string? GetString(Headers? headers, string name)
        => headers is not null && headers.TryGetLastBytes(name, out var bytes) ? Encoding.UTF8.GetString(bytes) : null;

    [LoggerMessage(LogLevel.Information, "Consuming {Topic} in group {GroupId}")]
    private static partial void LogStarted(ILogger logger, string topic, string groupId);

    [LoggerMessage(LogLevel.Information, "{Topic} ({GroupId}): partitions assigned {Partitions}")]
    private static partial void LogAssigned(ILogger logger, string topic, string groupId, string partitions);

    [LoggerMessage(LogLevel.Information, "{Topic} ({GroupId}): partitions revoked {Partitions}")]
    private static partial void LogRevoked(ILogger logger, string topic, string groupId, string partitions);

    [LoggerMessage(LogLevel.Warning, "{Topic} ({GroupId}): {Reason}")]
    private static partial void LogConsumeError(ILogger logger, string topic, string groupId, string reason);

    [LoggerMessage(LogLevel.Warning, "{Topic} ({GroupId}): committing offsets failed: {Reason}")]
    private static partial void LogCommitFailed(ILogger logger, string topic, string groupId, string reason);

    [LoggerMessage(LogLevel.Error, "Kafka is not configured: {Topic} ({GroupId}) is not consumed")]
    private static partial void LogNotConfigured(ILogger logger, string topic, string groupId);

    [LoggerMessage(LogLevel.Error, "The consumer of {Topic} ({GroupId}) failed; starting a new one shortly")]
    private static partial void LogLoopFailed(ILogger logger, Exception exception, string topic, string groupId);

    [LoggerMessage(LogLevel.Error, "A partition listener failed for {Topic} ({GroupId})")]
    private static partial void LogListenerFailed(ILogger logger, Exception exception, string topic, string groupId);

    [LoggerMessage(LogLevel.Warning, "Handling {MessageType} from {Topic} [{Partition}] @{Offset} failed (attempt {Attempt}); retrying")]
    private static partial void LogRetrying(ILogger logger, Exception exception, string messageType, string topic, int partition, long offset, int attempt);

    [LoggerMessage(LogLevel.Error, "Dead-lettering {Topic} [{Partition}] @{Offset} to {DeadLetterTopic}: {Error}")]
    private static partial void LogDeadLettering(ILogger logger, string topic, int partition, long offset, string deadLetterTopic, string error);

    [LoggerMessage(LogLevel.Error, "Producing to {DeadLetterTopic} failed ({Reason}); trying again")]
    private static partial void LogDeadLetterFailed(ILogger logger, string deadLetterTopic, string reason);

    [LoggerMessage(LogLevel.Debug, "Skipping a tombstone on {Topic} [{Partition}] @{Offset}")]
    private static partial void LogTombstone(ILogger logger, string topic, int partition, long offset);
}
