using System.Net.Sockets;
using System.Text;
using Confluent.Kafka;
using TorrentEdge.ServiceDefaults.Messaging;
using static TorrentEdge.ServiceDefaults.Tests.Messaging.KafkaTestSupport;

namespace TorrentEdge.ServiceDefaults.Tests.Messaging;

public sealed class EmbeddedKafkaTests
{
    private const string Kcat = "/usr/bin/kcat";

    [Fact]
    public void Start_ThreeBrokers_BootstrapListsThreeLoopbackAddresses()
    {
        using var kafka = EmbeddedKafka.Start(brokers: 3);

        var brokers = kafka.BootstrapServers.Split(',');
        Assert.Equal(3, brokers.Length);
        Assert.All(brokers, b => Assert.StartsWith("127.0.0.1:", b));
    }

    [Fact]
    public async Task Produce_InThisProcess_ConsumedByKcatInAnotherProcess()
    {
        if (!File.Exists(Kcat))
        {
            Assert.Skip("Debian's kcat is not installed here (apt-get install kcat).");
        }
        using var kafka = EmbeddedKafka.Start();
        kafka.CreateTopic("cross-out", 1);
        using (var producer = Producer(kafka))
        {
            for (var i = 0; i < 3; i++)
            {
                await producer.ProduceAsync("cross-out", new Message<string, string> { Key = "k" + i, Value = "v" + i }, TestContext.Current.CancellationToken);
            }
        }

        var (exitCode, output, error) = await RunProcessAsync(Kcat,
            ["-C", "-b", kafka.BootstrapServers, "-t", "cross-out", "-o", "beginning", "-c", "3", "-e", "-q", "-f", "%k=%s\n"]);

        Assert.True(exitCode == 0, error);
        Assert.Equal(["k0=v0", "k1=v1", "k2=v2"], output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Produce_ByKcatInAnotherProcess_ConsumedInThisProcess()
    {
        if (!File.Exists(Kcat))
        {
            Assert.Skip("Debian's kcat is not installed here (apt-get install kcat).");
        }
        using var kafka = EmbeddedKafka.Start();
        kafka.CreateTopic("cross-in", 1);

        var (exitCode, _, error) = await RunProcessAsync(Kcat,
            ["-P", "-b", kafka.BootstrapServers, "-t", "cross-in", "-K", ":"], input: "a:1\nb:2\n");
        Assert.True(exitCode == 0, error);

        using var consumer = Consumer(kafka, "cross-in-group");
        consumer.Subscribe("cross-in");
        var results = ConsumeMany(consumer, 2);
        consumer.Close();

        Assert.Equal(["a=1", "b=2"], results.Select(r => r.Message.Key + "=" + Encoding.UTF8.GetString(r.Message.Value)));
    }

    [Fact]
    public async Task ConsumerGroup_SecondMemberJoins_TakesOverSomePartitions()
    {
        using var kafka = EmbeddedKafka.Start(brokers: 3);
        kafka.CreateTopic("shared", 4);
        using var first = Consumer(kafka, "sharing");
        using var second = Consumer(kafka, "sharing");

        first.Subscribe("shared");
        await WaitUntilAsync(() => { first.Consume(TimeSpan.FromMilliseconds(100)); return first.Assignment.Count == 4; }, "the first member to own all partitions");

        second.Subscribe("shared");
        await WaitUntilAsync(() =>
        {
            first.Consume(TimeSpan.FromMilliseconds(50));
            second.Consume(TimeSpan.FromMilliseconds(50));
            return second.Assignment.Count > 0 && first.Assignment.Count + second.Assignment.Count == 4;
        }, "the second member to take over some partitions");

        Assert.InRange(first.Assignment.Count, 1, 3);
        Assert.Empty(first.Assignment.Select(p => p.Partition.Value).Intersect(second.Assignment.Select(p => p.Partition.Value)));
        second.Close();
        first.Close();
    }

    [Fact]
    public void CreateTopic_GivenPartitions_MetadataReportsThem()
    {
        using var kafka = EmbeddedKafka.Start();
        kafka.CreateTopic("wide", 6);

        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = kafka.BootstrapServers }).Build();
        var metadata = admin.GetMetadata("wide", TimeSpan.FromSeconds(10));

        Assert.Equal(6, Assert.Single(metadata.Topics).Partitions.Count);
    }

    [Fact]
    public async Task Dispose_ClusterDestroyed_BrokerPortClosed()
    {
        var kafka = EmbeddedKafka.Start();
        var port = int.Parse(kafka.BootstrapServers.Split(',')[0].Split(':')[1]);
        kafka.Dispose();

        using var client = new TcpClient();
        await Assert.ThrowsAnyAsync<SocketException>(async () =>
            await client.ConnectAsync("127.0.0.1", port, TestContext.Current.CancellationToken));
    }
}
