using System.Diagnostics;
using System.Text.Json;
using MassTransit;
using MassTransit.Mediator;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.LiveEvents.Benchmarks;

/// <summary>
/// The bridge's costs per message one by one, on one thread, without Kafka: deserializing a progress event, handing it to
/// the MassTransit mediator (as the bridge does, and without the headers it adds), and a DI scope alone. Microseconds and
/// bytes allocated per message, to tell where the kafka run's CPU goes before changing anything.
/// </summary>
public static class DispatchCost
{
    public static async Task<int> RunAsync(int iterations)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration["ConnectionStrings:kafka"] = "127.0.0.1:9";
        builder.AddKafkaMessaging(cfg => cfg.AddConsumer<KafkaThroughput.CountingConsumer>());
        using var host = builder.Build();
        var mediator = host.Services.GetRequiredService<IMediator>();
        var scopes = host.Services.GetRequiredService<IServiceScopeFactory>();

        // The kafka run's event (empty lists) and one as a busy torrent sends it (files, trackers, peers).
        var plain = Progress(files: 0, trackers: 0, peers: 0);
        var busy = Progress(files: 5, trackers: 3, peers: 10);
        var plainJson = IntegrationEventJson.SerializeToUtf8Bytes(plain);
        var busyJson = IntegrationEventJson.SerializeToUtf8Bytes(busy);
        Console.WriteLine($"dispatch: {iterations:N0} iterations each, one thread; progress event {plainJson.Length} bytes (kafka run), {busyJson.Length} bytes (5 files, 3 trackers, 10 peers)");

        var type = typeof(TorrentProgressed);
        var pipe = Pipe.Execute<PublishContext>(context =>
        {
            context.Headers.Set(KafkaHeaders.SourceTopic, "torrent-events");
            context.Headers.Set(KafkaHeaders.SourcePartition, 3);
            context.Headers.Set(KafkaHeaders.SourceOffset, 12345L);
            context.Headers.Set(KafkaHeaders.SourceKey, plain.InfoHash);
        });

        Measure("json: deserialize (kafka run's event)", iterations, () => JsonSerializer.Deserialize(plainJson, type, IntegrationEventJson.Options));
        Measure("json: deserialize (busy event)", iterations, () => JsonSerializer.Deserialize(busyJson, type, IntegrationEventJson.Options));
        // The same JSON into a class of the same shape built by a parameterless constructor and init setters: what
        // System.Text.Json's path for constructors with parameters costs on top.
        Measure("json: deserialize (kafka run's event) into a same-shape class with setters", iterations,
            () => JsonSerializer.Deserialize<ProgressWithSetters>(plainJson, IntegrationEventJson.Options));
        Measure("json: deserialize (busy event) into a same-shape class with setters", iterations,
            () => JsonSerializer.Deserialize<ProgressWithSetters>(busyJson, IntegrationEventJson.Options));
        Measure("json: serialize (kafka run's event)", iterations, () => IntegrationEventJson.SerializeToUtf8Bytes(plain));
        await MeasureAsync("mediator: Publish(object, type, source headers pipe)", iterations, () => mediator.Publish(plain, type, pipe));
        await MeasureAsync("mediator: Publish(object, type)", iterations, () => mediator.Publish(plain, type));
        await MeasureAsync("mediator: Publish<T>(T)", iterations, () => mediator.Publish(plain));
        await MeasureAsync("DI: async scope + consumer resolved + disposed", iterations, async () =>
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<KafkaThroughput.CountingConsumer>();
        });
        KafkaThroughput.CountingConsumer.Reset();
        return 0;
    }

    private static void Measure(string name, int iterations, Func<object?> action)
    {
        for (var i = 0; i < Math.Min(iterations, 20_000); i++)
        {
            action();
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            action();
        }
        Report(name, iterations, clock.Elapsed, GC.GetAllocatedBytesForCurrentThread() - allocated);
    }

    private static async Task MeasureAsync(string name, int iterations, Func<Task> action)
    {
        for (var i = 0; i < Math.Min(iterations, 20_000); i++)
        {
            await action();
        }
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            await action();
        }
        Report(name, iterations, clock.Elapsed, GC.GetTotalAllocatedBytes(precise: true) - allocated);
    }

    private static void Report(string name, int iterations, TimeSpan elapsed, long allocated)
        => Console.WriteLine($"  {name}: {elapsed.TotalMicroseconds / iterations:0.00} µs, {allocated / iterations:N0} bytes per message");

    /// <summary><see cref="TorrentProgressed"/>'s JSON shape with init setters only.</summary>
    public sealed class ProgressWithSetters
    {
        public Guid Id { get; init; }
        public DateTimeOffset OccurredAt { get; init; }
        public int SchemaVersion { get; init; }
        public string InfoHash { get; init; } = "";
        public IReadOnlyList<string> Owners { get; init; } = [];
        public long Sequence { get; init; }
        public TorrentState State { get; init; }
        public double Progress { get; init; }
        public long VerifiedBytes { get; init; }
        public long TotalBytes { get; init; }
        public long DownloadedBytes { get; init; }
        public long UploadedBytes { get; init; }
        public long DownloadRate { get; init; }
        public long UploadRate { get; init; }
        public int PeersConnected { get; init; }
        public int PeersTotal { get; init; }
        public long? EtaSeconds { get; init; }
        public IReadOnlyList<FileProgress> Files { get; init; } = [];
        public IReadOnlyList<TrackerStatus> Trackers { get; init; } = [];
        public string? Name { get; init; }
        public IReadOnlyList<PeerStatus>? Peers { get; init; }
        public byte[]? PieceBitfield { get; init; }
        public int PieceCount { get; init; }
    }

    private static TorrentProgressed Progress(int files, int trackers, int peers) => new(
        new string('a', 40), ["alice"], TorrentState.Downloading, 0.42, 420_000_000, 1_000_000_000, 430_000_000, 12_000_000, 5_000_000,
        250_000, 12, 40, 116,
        [.. Enumerable.Range(0, files).Select(i => new FileProgress($"Some Show/Season 1/episode {i}.mkv", 200_000_000, 84_000_000, FilePriority.Normal))],
        [.. Enumerable.Range(0, trackers).Select(i => new TrackerStatus($"udp://tracker{i}.example.org:1337/announce", "Working", 120, 40, null))])
    {
        Name = "Some Show Season 1",
        Peers = [.. Enumerable.Range(0, peers).Select(i => new PeerStatus($"10.0.0.{i}:6881", "qBittorrent 4.6", "Tracker", i % 2 == 0, true, 0.5, 100_000, 20_000, 1_000_000, 200_000, false, true))],
        PieceBitfield = null,
    };
}
