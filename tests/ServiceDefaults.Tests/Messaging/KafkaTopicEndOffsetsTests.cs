using Confluent.Kafka;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TorrentEdge.ServiceDefaults.Messaging;
using static TorrentEdge.ServiceDefaults.Tests.Messaging.KafkaTestSupport;

namespace TorrentEdge.ServiceDefaults.Tests.Messaging;

public sealed class KafkaTopicEndOffsetsTests
{
    [Fact]
    public async Task Sum_RecordsOnSeveralPartitions_CountsThemAll()
    {
        using var kafka = EmbeddedKafka.Start();
        kafka.CreateTopic("specs", 4);
        using (var producer = Producer(kafka))
        {
            for (var i = 0; i < 7; i++)
            {
                await producer.ProduceAsync("specs", new Message<string, string> { Key = "k" + i, Value = "v" }, TestContext.Current.CancellationToken);
            }
        }
        using var offsets = new KafkaTopicEndOffsets(Options.Create(new KafkaMessagingOptions { BootstrapServers = kafka.BootstrapServers }), new Environment());

        Assert.Equal(7, await offsets.SumAsync("specs", TestContext.Current.CancellationToken));
        kafka.CreateTopic("empty", 2);
        Assert.Equal(0, await offsets.SumAsync("empty", TestContext.Current.CancellationToken));
    }

    private sealed class Environment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Test";
        public string ApplicationName { get; set; } = "offsets-test";
        public string ContentRootPath { get; set; } = "";
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = null!;
    }
}
