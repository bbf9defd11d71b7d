using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.PeerWorker.Ownership;
using TorrentEdge.PeerWorker.Reconciliation;
using TorrentEdge.PeerWorker.Runtime;
using TorrentEdge.PeerWorker.Tests.Support;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.PeerWorker.Tests.Functional;

/// <summary>
/// Two PeerWorker hosts with the real engine in one consumer group on an embedded Kafka: the partitions of torrent-specs,
/// and so the torrents, are split between them; when one stops, the other takes its torrents over.
/// </summary>
public sealed class OwnershipFailoverTests : IAsyncDisposable
{
    private const int Partitions = 6;
    private const int TorrentCount = 12;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);
    private readonly string _root = Path.Combine(Path.GetTempPath(), "pw-func-" + Guid.NewGuid().ToString("n"));
    private readonly EmbeddedKafka _kafka = EmbeddedKafka.Start();
    private readonly List<PeerWorkerFactory> _hosts = [];

    [Fact]
    public async Task TwoReplicas_SplitTheTorrents_AndTheSurvivorTakesOverWhenOneStops()
    {
        var ct = TestContext.Current.CancellationToken;
        _kafka.CreateTopic(Topics.TorrentSpecs, Partitions);
        _kafka.CreateTopic(Topics.TorrentEvents, 3);
        var hashes = await PublishSpecsAsync(ct);
        var downloads = Path.Combine(_root, "downloads");

        var a = Start(new PeerWorkerFactory(_kafka.BootstrapServers, downloads, "replica-a"));
        await WaitForAsync(() => Owned(a).Count == TorrentCount, "replica-a alone owns every torrent");
        Assert.Equal(hashes.Order(), Running(a).Order());

        var b = Start(new PeerWorkerFactory(_kafka.BootstrapServers, downloads, "replica-b"));
        await WaitForAsync(() => Owned(b).Count > 0 && Owned(a).Count + Owned(b).Count == TorrentCount && Running(a).Count + Running(b).Count == TorrentCount,
            "the torrents are split between the replicas");
        Assert.Empty(Owned(a).Intersect(Owned(b)));
        Assert.Empty(Running(a).Intersect(Running(b)));
        Assert.NotEmpty(Owned(a));
        var partitionsA = a.Services.GetRequiredService<DesiredTorrents>().OwnedPartitions;
        var partitionsB = b.Services.GetRequiredService<DesiredTorrents>().OwnedPartitions;
        Assert.Equal(Enumerable.Range(0, Partitions), partitionsA.Concat(partitionsB).Order());
        using (var client = b.CreateClient())
        {
            var health = await client.GetAsync("/health", ct);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        var hadA = Owned(a);
        _hosts.Remove(a);
        await a.DisposeAsync();

        await WaitForAsync(() => Owned(b).Count == TorrentCount && Running(b).Count == TorrentCount, "replica-b took every torrent over");
        Assert.Superset(hadA.ToHashSet(), Running(b).ToHashSet());

        var added = await ReadAddedEventsAsync(ct);
        Assert.Contains(added, e => e.WorkerId == "replica-a");
        Assert.Contains(added, e => e.WorkerId == "replica-b");
        Assert.All(added, e => Assert.Equal(["user-1"], e.Owners));
    }

    private PeerWorkerFactory Start(PeerWorkerFactory factory)
    {
        _hosts.Add(factory);
        _ = factory.Services; // builds and starts the host
        return factory;
    }

    private static IReadOnlyList<string> Owned(PeerWorkerFactory host) => [.. host.Services.GetRequiredService<OwnedTorrents>().InfoHashes];

    private static IReadOnlyList<string> Running(PeerWorkerFactory host)
        => [.. host.Services.GetRequiredService<ITorrentRuntime>().GetSnapshots().Select(s => s.InfoHash)];

    /// <summary>Two torrents per partition, each spec with its metainfo inline, as Catalog would publish them.</summary>
    private async Task<List<string>> PublishSpecsAsync(CancellationToken ct)
    {
        using var producer = new ProducerBuilder<string, byte[]>(new ProducerConfig { BootstrapServers = _kafka.BootstrapServers }).Build();
        var hashes = new List<string>();
        for (var i = 0; i < TorrentCount; i++)
        {
            var (hash, metainfo) = await TestTorrents.CreateAsync(Path.Combine(_root, "sources", i.ToString(CultureInfo.InvariantCulture)), $"file{i}.bin", 20_000);
            hashes.Add(hash);
            var spec = TestTorrents.Spec(hash, metainfo: metainfo);
            var message = new Message<string, byte[]>
            {
                Key = hash,
                Value = JsonSerializer.SerializeToUtf8Bytes(spec, IntegrationEventJson.Options),
                Headers = new Headers
                {
                    { KafkaHeaders.MessageType, Encoding.UTF8.GetBytes(nameof(TorrentSpecChanged)) },
                    { KafkaHeaders.SchemaVersion, "1"u8.ToArray() },
                },
            };
            await producer.ProduceAsync(new TopicPartition(Topics.TorrentSpecs, i % Partitions), message, ct);
        }
        return hashes;
    }

    private async Task<List<TorrentAdded>> ReadAddedEventsAsync(CancellationToken ct)
    {
        using var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = _kafka.BootstrapServers,
            GroupId = "test-reader",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, 3).Select(p => new TopicPartitionOffset(Topics.TorrentEvents, p, Offset.Beginning)));
        var added = new List<TorrentAdded>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline && !(added.Any(e => e.WorkerId == "replica-a") && added.Any(e => e.WorkerId == "replica-b")))
        {
            ct.ThrowIfCancellationRequested();
            var result = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (result?.Message?.Value is { } value
                && result.Message.Headers.TryGetLastBytes(KafkaHeaders.MessageType, out var type)
                && Encoding.UTF8.GetString(type) == nameof(TorrentAdded))
            {
                added.Add(JsonSerializer.Deserialize<TorrentAdded>(value, IntegrationEventJson.Options)!);
            }
        }
        return added;
    }

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting until " + what);
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }
        _kafka.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
