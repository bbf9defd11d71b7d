using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TorrentEdge.ServiceDefaults.Messaging;
using static TorrentEdge.ServiceDefaults.Tests.Messaging.KafkaTestSupport;

namespace TorrentEdge.ServiceDefaults.Tests.Messaging;

// These tests publish without a cancellation token on purpose: that is the path under test (the WaitAsync around each
// task still ends with the test's token).
#pragma warning disable xUnit1051

/// <summary>
/// Publishing without a cancellation token (PeerWorker's outbox does so): the message goes out with a delivery callback
/// instead of Confluent.Kafka's ProduceAsync, and the task must still say what happened to it.
/// </summary>
public sealed class KafkaIntegrationEventPublisherTests : IDisposable
{
    private const string Topic = "published";

    private readonly EmbeddedKafka _kafka = EmbeddedKafka.Start();

    public KafkaIntegrationEventPublisherTests() => _kafka.CreateTopic(Topic, 2);

    public void Dispose() => _kafka.Dispose();

    private IHost BuildHost()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["ConnectionStrings:kafka"] = _kafka.BootstrapServers;
        // A delivery that cannot happen fails within the test's patience.
        builder.Configuration["Kafka:Producer:message.timeout.ms"] = "2000";
        builder.Logging.ClearProviders().AddProvider(new TestOutputLoggerProvider(TestContext.Current.TestOutputHelper));
        builder.AddKafkaMessaging(configure: o => o.EventTypes.Add<TestPinged>());
        return builder.Build();
    }

    [Fact]
    public async Task PublishSerialized_ManyWithoutToken_AllAcknowledgedInOrderPerKeyWithHeaders()
    {
        using var host = BuildHost();
        var publisher = host.Services.GetRequiredService<IIntegrationEventPublisher>();
        var pings = Enumerable.Range(0, 200).Select(i => new TestPinged("ping " + i)).ToList();

        // Handed over one after another without awaiting, as the outbox does.
        var sends = pings.Select((p, i) => publisher.PublishSerializedAsync(Topic, "key-" + (i % 3), p, IntegrationEventJson.SerializeToUtf8Bytes(p))).ToList();
        await Task.WhenAll(sends).WaitAsync(KafkaTestSupport.Timeout, TestContext.Current.CancellationToken);

        using var reader = Consumer(_kafka, "raw-reader");
        reader.Subscribe(Topic);
        var messages = ConsumeMany(reader, pings.Count);
        reader.Close();
        Assert.Equal(pings.Count, messages.Count);
        foreach (var key in new[] { "key-0", "key-1", "key-2" })
        {
            var expected = pings.Where((_, i) => "key-" + (i % 3) == key).Select(p => p.Id.ToString());
            var read = messages.Where(m => m.Message.Key == key).Select(m => Encoding.UTF8.GetString(m.Message.Headers.GetLastBytes(KafkaHeaders.MessageId)));
            Assert.Equal(expected, read);
        }
        Assert.All(messages, m => Assert.Equal(nameof(TestPinged), Encoding.UTF8.GetString(m.Message.Headers.GetLastBytes(KafkaHeaders.MessageType))));
    }

    [Fact]
    public async Task PublishSerialized_TooLargeWithoutToken_TaskFaultsRatherThanThrowing()
    {
        using var host = BuildHost();
        var publisher = host.Services.GetRequiredService<IIntegrationEventPublisher>();
        var ping = new TestPinged(new string('x', 2_000_000));

        var send = publisher.PublishSerializedAsync(Topic, "key", ping, IntegrationEventJson.SerializeToUtf8Bytes(ping));

        var error = await Assert.ThrowsAnyAsync<KafkaException>(() => send.WaitAsync(KafkaTestSupport.Timeout, TestContext.Current.CancellationToken));
        Assert.Equal(ErrorCode.MsgSizeTooLarge, error.Error.Code);
    }

    [Fact]
    public async Task PublishSerialized_BrokersDownWithoutToken_TaskFaultsWithTheDeliveryError()
    {
        using var host = BuildHost();
        var publisher = host.Services.GetRequiredService<IIntegrationEventPublisher>();
        var first = new TestPinged("first");
        await publisher.PublishSerializedAsync(Topic, "key", first, IntegrationEventJson.SerializeToUtf8Bytes(first)).WaitAsync(KafkaTestSupport.Timeout, TestContext.Current.CancellationToken);
        _kafka.SetAllBrokers(up: false);
        try
        {
            var lost = new TestPinged("lost");

            var send = publisher.PublishSerializedAsync(Topic, "key", lost, IntegrationEventJson.SerializeToUtf8Bytes(lost));

            var error = await Assert.ThrowsAsync<ProduceException<string, byte[]>>(() => send.WaitAsync(KafkaTestSupport.Timeout, TestContext.Current.CancellationToken));
            Assert.True(error.Error.IsError);
            Assert.Equal("key", error.DeliveryResult.Message.Key);
        }
        finally
        {
            _kafka.SetAllBrokers(up: true);
        }
    }
}
