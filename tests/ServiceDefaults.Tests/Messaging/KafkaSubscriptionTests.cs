using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Confluent.Kafka;
using MassTransit;
using Headers = Confluent.Kafka.Headers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TorrentEdge.Contracts;
using TorrentEdge.ServiceDefaults.Messaging;
using static TorrentEdge.ServiceDefaults.Tests.Messaging.KafkaTestSupport;

namespace TorrentEdge.ServiceDefaults.Tests.Messaging;

public sealed record TestPinged(string Text) : IntegrationEvent;

/// <summary>What the test consumers saw, shared with the test through DI.</summary>
public sealed class Probe
{
    public ConcurrentQueue<(string Text, ActivityTraceId TraceId, int? Partition, string? Key)> Handled { get; } = new();

    public ConcurrentDictionary<string, int> Attempts { get; } = new();

    public int FailuresBeforeSuccess { get; set; }

    public string AlwaysFails { get; set; } = "poison";
}

public sealed class ProbeConsumer(Probe probe) : MassTransit.IConsumer<TestPinged>
{
    public Task Consume(ConsumeContext<TestPinged> context)
    {
        var text = context.Message.Text;
        var attempt = probe.Attempts.AddOrUpdate(text, 1, (_, n) => n + 1);
        if (text == probe.AlwaysFails)
        {
            throw new InvalidOperationException("cannot handle " + text);
        }
        if (attempt <= probe.FailuresBeforeSuccess)
        {
            throw new TimeoutException("transient failure " + attempt);
        }
        probe.Handled.Enqueue((text, Activity.Current?.TraceId ?? default, context.GetKafkaPartition(), context.GetKafkaKey()));
        return Task.CompletedTask;
    }
}

public sealed class KafkaSubscriptionTests : IDisposable
{
    private const string Topic = "pings";
    private const string Group = "ping-handlers";

    private readonly EmbeddedKafka _kafka = EmbeddedKafka.Start();

    public KafkaSubscriptionTests() => _kafka.CreateTopic(Topic, 1);

    public void Dispose() => _kafka.Dispose();

    private IHost BuildHost(Probe probe, Action<KafkaSubscriptionOptions>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["ConnectionStrings:kafka"] = _kafka.BootstrapServers;
        builder.Logging.ClearProviders().AddProvider(new TestOutputLoggerProvider(TestContext.Current.TestOutputHelper));
        builder.Services.AddSingleton(probe);
        builder.AddKafkaMessaging(cfg => cfg.AddConsumer<ProbeConsumer>(), o => o.EventTypes.Add<TestPinged>());
        builder.AddKafkaSubscription(Topic, Group, o =>
        {
            o.RetryIntervals = [TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10)];
            o.CommitInterval = TimeSpan.Zero;
            o.SessionTimeout = TimeSpan.FromSeconds(6);
            configure?.Invoke(o);
        });
        return builder.Build();
    }

    private long CommittedOffset(string topic = Topic)
    {
        using var consumer = Consumer(_kafka, Group);
        var committed = consumer.Committed([new TopicPartition(topic, 0)], TimeSpan.FromSeconds(10));
        return committed.Single().Offset.Value;
    }

    [Fact]
    public async Task Publish_WithinActivity_ConsumerRunsInTheSameTrace()
    {
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is MessagingTelemetry.Name or "Tests",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        using var source = new ActivitySource("Tests");
        var probe = new Probe();
        using var host = BuildHost(probe);
        await host.StartAsync(TestContext.Current.CancellationToken);

        ActivityTraceId traceId;
        using (var root = source.StartActivity("test root"))
        {
            Assert.NotNull(root);
            traceId = root.TraceId;
            await host.Services.GetRequiredService<IIntegrationEventPublisher>()
                .PublishAsync(Topic, "key-1", new TestPinged("hello"), TestContext.Current.CancellationToken);
        }

        await WaitUntilAsync(() => !probe.Handled.IsEmpty, "the consumer to handle the message");
        await host.StopAsync(TestContext.Current.CancellationToken);

        var handled = Assert.Single(probe.Handled);
        Assert.Equal("hello", handled.Text);
        Assert.Equal(traceId, handled.TraceId);
        Assert.Equal(0, handled.Partition);
        Assert.Equal("key-1", handled.Key);
    }

    [Fact]
    public async Task PublishSerialized_EventsBytes_SentAsGivenWithHeadersAndConsumed()
    {
        var probe = new Probe();
        using var host = BuildHost(probe);
        await host.StartAsync(TestContext.Current.CancellationToken);
        var ping = new TestPinged("as serialized");
        var body = IntegrationEventJson.SerializeToUtf8Bytes(ping);

        await host.Services.GetRequiredService<IIntegrationEventPublisher>()
            .PublishSerializedAsync(Topic, "key-1", ping, body, TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => !probe.Handled.IsEmpty, "the consumer to handle the message");
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal("as serialized", Assert.Single(probe.Handled).Text);
        using var reader = Consumer(_kafka, "raw-reader");
        reader.Subscribe(Topic);
        var message = Assert.Single(ConsumeMany(reader, 1)).Message;
        reader.Close();
        string Header(string name) => Encoding.UTF8.GetString(message.Headers.GetLastBytes(name));
        Assert.Equal(body, message.Value);
        Assert.Equal(nameof(TestPinged), Header(KafkaHeaders.MessageType));
        Assert.Equal("1", Header(KafkaHeaders.SchemaVersion));
        Assert.Equal(ping.Id.ToString(), Header(KafkaHeaders.MessageId));
        Assert.Equal(KafkaHeaders.JsonContentType, Header(KafkaHeaders.ContentType));
    }

    [Fact]
    public async Task Consume_ConsumerFailsTwiceThenSucceeds_RetriedAndCommittedOnce()
    {
        var probe = new Probe { FailuresBeforeSuccess = 2 };
        using var metrics = new MessagingMetricsRecorder();
        using (var host = BuildHost(probe))
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
            await host.Services.GetRequiredService<IIntegrationEventPublisher>()
                .PublishAsync(Topic, "k", new TestPinged("flaky"), TestContext.Current.CancellationToken);
            await WaitUntilAsync(() => !probe.Handled.IsEmpty, "the third attempt to succeed");
            await host.StopAsync(TestContext.Current.CancellationToken);
        }

        Assert.Equal(3, probe.Attempts["flaky"]);
        Assert.Equal(1, CommittedOffset());
        Assert.Equal((1, 1, 2), (metrics.Get("torrentedge.messaging.published"), metrics.Get("torrentedge.messaging.consumed"), metrics.Get("torrentedge.messaging.failed")));

        // A new member of the group starts after the committed message: it is not handled again.
        using (var host = BuildHost(probe))
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
            await host.Services.GetRequiredService<IIntegrationEventPublisher>()
                .PublishAsync(Topic, "k", new TestPinged("next"), TestContext.Current.CancellationToken);
            await WaitUntilAsync(() => probe.Handled.Any(h => h.Text == "next"), "the next message");
            await host.StopAsync(TestContext.Current.CancellationToken);
        }
        Assert.Equal(3, probe.Attempts["flaky"]);
        Assert.Equal(1, probe.Handled.Count(h => h.Text == "flaky"));
        Assert.Equal(2, CommittedOffset());
    }

    [Fact]
    public async Task Consume_ConsumerAlwaysFails_DeadLetteredWithErrorAndPartitionMovesOn()
    {
        var probe = new Probe();
        using var metrics = new MessagingMetricsRecorder();
        using var host = BuildHost(probe);
        await host.StartAsync(TestContext.Current.CancellationToken);
        var publisher = host.Services.GetRequiredService<IIntegrationEventPublisher>();

        await publisher.PublishAsync(Topic, "bad", new TestPinged("poison"), TestContext.Current.CancellationToken);
        await publisher.PublishAsync(Topic, "good", new TestPinged("after"), TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => probe.Handled.Any(h => h.Text == "after"), "the message after the poison one");
        await WaitUntilAsync(() => CommittedOffset() == 2, "the offset to pass both messages");
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal(3, probe.Attempts["poison"]);
        Assert.Equal(1, metrics.Get("torrentedge.messaging.dead_lettered"));
        using var dlq = Consumer(_kafka, "dlq-reader");
        dlq.Subscribe(Topic + Topics.DeadLetterSuffix);
        var dead = Assert.Single(ConsumeMany(dlq, 1));
        dlq.Close();
        string Header(string name) => Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes(name));
        Assert.Equal("bad", dead.Message.Key);
        Assert.Contains("poison", Encoding.UTF8.GetString(dead.Message.Value));
        Assert.Equal("cannot handle poison", Header(KafkaHeaders.Error));
        Assert.Equal(typeof(InvalidOperationException).FullName, Header(KafkaHeaders.ErrorType));
        Assert.Equal(Topic, Header(KafkaHeaders.OriginalTopic));
        Assert.Equal("0", Header(KafkaHeaders.OriginalPartition));
        Assert.Equal("0", Header(KafkaHeaders.OriginalOffset));
        Assert.Equal(nameof(TestPinged), Header(KafkaHeaders.MessageType));
    }

    [Theory]
    [InlineData("NoSuchEvent", "1", "UnknownMessageType")]
    [InlineData(nameof(TestPinged), "2", "UnsupportedSchemaVersion")]
    public async Task Consume_UnreadableMessage_DeadLetteredWithReason(string messageType, string schemaVersion, string errorType)
    {
        var probe = new Probe();
        using var host = BuildHost(probe);
        await host.StartAsync(TestContext.Current.CancellationToken);
        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build())
        {
            await producer.ProduceAsync(Topic, new Message<string, string>
            {
                Key = "x",
                Value = """{"text":"from the future"}""",
                Headers = new Headers
                {
                    { KafkaHeaders.MessageType, Encoding.UTF8.GetBytes(messageType) },
                    { KafkaHeaders.SchemaVersion, Encoding.UTF8.GetBytes(schemaVersion) },
                },
            }, TestContext.Current.CancellationToken);
        }

        await WaitUntilAsync(() => CommittedOffset() == 1, "the offset to pass the unreadable message");
        await host.StopAsync(TestContext.Current.CancellationToken);
        using var dlq = Consumer(_kafka, "dlq-reader");
        dlq.Subscribe(Topic + Topics.DeadLetterSuffix);
        var dead = Assert.Single(ConsumeMany(dlq, 1));
        dlq.Close();

        Assert.Equal(errorType, Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes(KafkaHeaders.ErrorType)));
        Assert.Empty(probe.Handled);
        Assert.Equal(1, CommittedOffset());
    }

    [Fact]
    public async Task StartFromBeginningOnAssign_CommittedGroup_ReadsPartitionAgainAndNotifiesListener()
    {
        var probe = new Probe();
        using (var host = BuildHost(probe))
        {
            await host.StartAsync(TestContext.Current.CancellationToken);
            await host.Services.GetRequiredService<IIntegrationEventPublisher>()
                .PublishAsync(Topic, "k", new TestPinged("first"), TestContext.Current.CancellationToken);
            await WaitUntilAsync(() => !probe.Handled.IsEmpty, "the first read");
            await host.StopAsync(TestContext.Current.CancellationToken);
        }
        Assert.Equal(1, CommittedOffset());

        var listener = new RecordingListener();
        using var replay = BuildHostWithListener(probe, listener);
        await replay.StartAsync(TestContext.Current.CancellationToken);
        await WaitUntilAsync(() => probe.Handled.Count(h => h.Text == "first") == 2, "the partition to be read from offset 0 again");

        var state = replay.Services.GetRequiredService<KafkaSubscriptionState>();
        Assert.Equal([0], state.AssignedPartitions);
        var health = await replay.Services.GetRequiredService<HealthCheckService>()
            .CheckHealthAsync(r => r.Tags.Contains("ready"), TestContext.Current.CancellationToken);
        Assert.Equal(HealthStatus.Healthy, health.Status);
        await replay.StopAsync(TestContext.Current.CancellationToken);

        var assigned = Assert.Single(listener.Assigned);
        Assert.Equal((Topic, Group, 0), (assigned.Topic, assigned.GroupId, Assert.Single(assigned.Partitions)));
        Assert.Single(listener.Revoked);
    }

    [Fact]
    public async Task AddKafkaSubscription_KafkaNotConfigured_HostRunsAndReportsUnhealthy()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(new Probe());
        builder.AddKafkaMessaging(cfg => cfg.AddConsumer<ProbeConsumer>());
        builder.AddKafkaSubscription(Topic, Group);
        using var host = builder.Build();
        await host.StartAsync(TestContext.Current.CancellationToken);

        var state = host.Services.GetRequiredService<KafkaSubscriptionState>();
        await WaitUntilAsync(() => state.Fault is not null, "the subscription to report its fault");
        var health = await host.Services.GetRequiredService<HealthCheckService>()
            .CheckHealthAsync(r => r.Tags.Contains("ready"), TestContext.Current.CancellationToken);
        await host.StopAsync(TestContext.Current.CancellationToken);

        Assert.Equal(HealthStatus.Unhealthy, health.Status);
        Assert.Contains("ConnectionStrings:kafka", Assert.Single(health.Entries).Value.Description);
    }

    private IHost BuildHostWithListener(Probe probe, RecordingListener listener)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["ConnectionStrings:kafka"] = _kafka.BootstrapServers;
        builder.Logging.ClearProviders().AddProvider(new TestOutputLoggerProvider(TestContext.Current.TestOutputHelper));
        builder.Services.AddSingleton(probe);
        builder.Services.AddSingleton<IKafkaPartitionListener>(listener);
        builder.AddKafkaMessaging(cfg => cfg.AddConsumer<ProbeConsumer>(), o => o.EventTypes.Add<TestPinged>());
        builder.AddKafkaSubscription(Topic, Group, o =>
        {
            o.StartFromBeginningOnAssign = true;
            o.CommitInterval = TimeSpan.Zero;
            o.SessionTimeout = TimeSpan.FromSeconds(6);
        });
        return builder.Build();
    }

    /// <summary>Sums the messaging counters for this class's topic while it lives (the tests of one class run one at a time).</summary>
    private sealed class MessagingMetricsRecorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentDictionary<string, long> _values = new();

        public MessagingMetricsRecorder()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == MessagingTelemetry.Name)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == "messaging.destination.name" && Equals(tag.Value, Topic))
                    {
                        _values.AddOrUpdate(instrument.Name, value, (_, v) => v + value);
                    }
                }
            });
            _listener.Start();
        }

        public long Get(string name) => _values.GetValueOrDefault(name);

        public void Dispose() => _listener.Dispose();
    }

    private sealed class RecordingListener : IKafkaPartitionListener
    {
        public ConcurrentQueue<KafkaPartitionsChange> Assigned { get; } = new();

        public ConcurrentQueue<KafkaPartitionsChange> Revoked { get; } = new();

        public void OnPartitionsAssigned(KafkaPartitionsChange change) => Assigned.Enqueue(change);

        public void OnPartitionsRevoked(KafkaPartitionsChange change) => Revoked.Enqueue(change);
    }
}
