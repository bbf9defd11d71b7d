using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.PeerWorker.IntegrationEvents;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.LiveEvents.Benchmarks;

/// <summary>
/// Events a second from PeerWorker's publisher (<see cref="TorrentEventOutbox"/>) through Kafka (the embedded mock
/// cluster, over TCP) and the bridge (consumer group, MassTransit mediator) into a consumer: progress events of
/// <c>torrents</c> torrents, as fast as the outbox takes them. The outbox writes to its <see cref="EventJournal"/> (SQLite,
/// <c>synchronous=FULL</c>, in a temporary folder) as in PeerWorker, <c>batch</c> events a write as the translator hands
/// over what the runtime had ready.
/// </summary>
public static class KafkaThroughput
{
    private const int Warmup = 10_000;

    public static async Task<int> RunAsync(int events, int torrents, int partitions, int batch)
    {
        var journalDirectory = Path.Combine(Path.GetTempPath(), "liveevents-journal-" + Guid.NewGuid().ToString("N"));
        using var journal = new EventJournal(journalDirectory, "benchmark");
        using var kafka = EmbeddedKafka.Start();
        kafka.CreateTopic(Topics.TorrentEvents, partitions);
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration["ConnectionStrings:kafka"] = kafka.BootstrapServers;
        // As Notifier sets it: the mock broker waits out fetch.wait.max.ms (500 ms by default) even when data arrives, and
        // keeps only 5 MiB of each partition; at 60,000-75,000 events/s the publisher wrote that much while the consumer
        // waited after the warm-up, which then lost the dropped events ("offset out of range") and the run never ended.
        builder.Configuration["Kafka:Consumer:fetch.wait.max.ms"] ??= "20";
        builder.AddKafkaMessaging(cfg => cfg.AddConsumer<CountingConsumer>());
        builder.AddKafkaSubscription(Topics.TorrentEvents, "benchmark", o => o.AutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Earliest);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(journal);
        builder.Services.AddSingleton(new TorrentSequences(null));
        builder.Services.AddSingleton<TorrentEventOutbox>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<TorrentEventOutbox>());
        using var host = builder.Build();
        await host.StartAsync();
        var state = host.Services.GetRequiredService<KafkaSubscriptionState>();
        var wait = Stopwatch.StartNew();
        while (state.AssignedPartitions.Count < partitions && wait.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(50);
        }
        var outbox = host.Services.GetRequiredService<TorrentEventOutbox>();
        var hashes = Enumerable.Range(0, torrents).Select(i => i.ToString("x40", System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        IReadOnlyList<string> owners = ["alice"];

        // Warm-up: connections, the group's first fetches, and enough calls for the JIT to reach its optimized tier.
        Enqueue(outbox, hashes, owners, Warmup, batch);
        await CountingConsumer.WaitForAsync(Warmup, TimeSpan.FromSeconds(60));
        CountingConsumer.Reset();

        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        Enqueue(outbox, hashes, owners, events, batch);
        var enqueued = clock.Elapsed;
        await outbox.FlushAsync(TimeSpan.FromMinutes(5));
        var published = clock.Elapsed;
        var consumedWhilePublishing = CountingConsumer.Count;
        var consumed = await CountingConsumer.WaitForAsync(events, TimeSpan.FromMinutes(5));
        var elapsed = clock.Elapsed;
        var cpuUsed = Process.GetCurrentProcess().TotalProcessorTime - cpu;
        await host.StopAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(journalDirectory, recursive: true);

        Console.WriteLine($"kafka: {events:N0} progress events of {torrents:N0} torrents over {partitions} partitions, journal writes of {batch} events");
        Console.WriteLine($"  enqueued (journaled) in {enqueued.TotalSeconds:0.000} s ({events / enqueued.TotalSeconds:N0}/s), all acknowledged by the broker after {published.TotalSeconds:0.000} s " +
            $"({events / published.TotalSeconds:N0}/s published)");
        Console.WriteLine($"  consumed {consumed:N0} after {elapsed.TotalSeconds:0.000} s: {consumed / elapsed.TotalSeconds:N0} events/s end to end; " +
            $"latency p50 {CountingConsumer.Percentile(0.5):N0} ms, p99 {CountingConsumer.Percentile(0.99):N0} ms (OccurredAt to the consumer)");
        Console.WriteLine($"  after the last acknowledgement, the consumer alone: {(consumed - consumedWhilePublishing) / (elapsed - published).TotalSeconds:N0} events/s");
        Console.WriteLine($"  process CPU {cpuUsed.TotalSeconds:0.00} s (publisher, broker mock and consumer in one process), peak working set {Process.GetCurrentProcess().PeakWorkingSet64 / 1048576:N0} MiB");
        return consumed == events ? 0 : 1;
    }

    private static void Enqueue(TorrentEventOutbox outbox, string[] hashes, IReadOnlyList<string> owners, int count, int batch)
    {
        var pending = new List<TorrentEvent>(batch);
        for (var i = 0; i < count; i++)
        {
            pending.Add(Progress(hashes[i % hashes.Length], owners, i));
            if (pending.Count == batch || i == count - 1)
            {
                outbox.EnqueueRange(pending);
                pending.Clear();
            }
        }
    }

    private static TorrentProgressed Progress(string hash, IReadOnlyList<string> owners, int i) => new(hash, owners, TorrentState.Downloading,
        (i % 100) / 100.0, i, 1_000_000, i, 0, 1000, 0, 3, 5, 10, [], []) { Name = "benchmark" };

    /// <summary>Counts what the bridge hands over, with the delay since each event occurred.</summary>
    public sealed class CountingConsumer : IConsumer<TorrentProgressed>
    {
        private static int _count;
        private static readonly List<double> Latencies = [];

        public Task Consume(ConsumeContext<TorrentProgressed> context)
        {
            var latency = (DateTimeOffset.UtcNow - context.Message.OccurredAt).TotalMilliseconds;
            lock (Latencies)
            {
                Latencies.Add(latency);
            }
            Interlocked.Increment(ref _count);
            return Task.CompletedTask;
        }

        public static int Count => Volatile.Read(ref _count);

        public static void Reset()
        {
            lock (Latencies)
            {
                Latencies.Clear();
            }
            Interlocked.Exchange(ref _count, 0);
        }

        public static double Percentile(double p)
        {
            lock (Latencies)
            {
                if (Latencies.Count == 0)
                {
                    return double.NaN;
                }
                var sorted = Latencies.Order().ToList();
                return sorted[(int)Math.Min(sorted.Count - 1, Math.Floor(p * sorted.Count))];
            }
        }

        public static async Task<int> WaitForAsync(int count, TimeSpan bound)
        {
            var clock = Stopwatch.StartNew();
            while (Volatile.Read(ref _count) < count && clock.Elapsed < bound)
            {
                await Task.Delay(5);
            }
            return Volatile.Read(ref _count);
        }
    }
}
