using System.Diagnostics;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.PeerWorker.IntegrationEvents;
using TorrentEdge.PeerWorker.Tests.Functional;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.PeerWorker.Tests.IntegrationEvents;

/// <summary>The outbox against the embedded Kafka whose brokers are taken down: nothing is dropped, a stop loses nothing.</summary>
public sealed class TorrentEventOutboxTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "outbox-" + Guid.NewGuid().ToString("N"));

    [Fact]
    public async Task Enqueue_BrokersDownLongerThanRetriesAndReplicaStops_EveryFinalEventArrivesInOrderOnceBack()
    {
        using var kafka = EmbeddedKafka.Start(brokers: 3);
        kafka.CreateTopic(Topics.TorrentEvents, 3);
        using var host = PublisherHost(kafka.BootstrapServers);
        var publisher = host.Services.GetRequiredService<IIntegrationEventPublisher>();
        var outboxDirectory = Path.Combine(_directory, "outbox");
        var sequences = new TorrentSequences(_directory);

        // Warm up: the producer knows the cluster before it goes away.
        var first = new EventJournal(outboxDirectory, "replica-a");
        var outbox = new TorrentEventOutbox(publisher, TimeProvider.System, NullLogger<TorrentEventOutbox>.Instance, first, sequences);
        await outbox.StartAsync(Ct);
        var hashes = Enumerable.Range(1, 3).Select(i => new string((char)('a' + i), 40)).ToList();
        outbox.Enqueue(new TorrentAdded(hashes[0], ["alice"], "warm-up", 1, "replica-a"));
        await outbox.FlushAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(0, outbox.Pending);

        kafka.SetAllBrokers(up: false);
        var clock = Stopwatch.StartNew();
        foreach (var hash in hashes)
        {
            outbox.Enqueue(new TorrentCompleted(hash, ["alice"], 100));
            outbox.Enqueue(new TorrentSeeding(hash, ["alice"]));
            outbox.Enqueue(new TorrentStateChanged(hash, ["alice"], TorrentState.Stopped, "replica-a"));
            outbox.Enqueue(new TorrentRemoved(hash, ["alice"], DataDeleted: true));
        }
        // Longer than the outbox used to try (4 attempts, then "giving up on this event").
        await Task.Delay(TimeSpan.FromSeconds(20), Ct);
        Assert.Equal(12, outbox.Pending);

        // The replica stops during the outage: its events stay in its journal...
        await outbox.StopAsync(CancellationToken.None);
        outbox.Dispose();
        first.Dispose();
        // ...and the next replica takes them over.
        using var second = new EventJournal(outboxDirectory, "replica-b");
        Assert.Equal(12, second.Adopted);
        using var next = new TorrentEventOutbox(publisher, TimeProvider.System, NullLogger<TorrentEventOutbox>.Instance, second, new TorrentSequences(_directory));
        await next.StartAsync(Ct);
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);

        kafka.SetAllBrokers(up: true);
        var down = clock.Elapsed;
        using var tap = new TorrentEventsTap(kafka.BootstrapServers, 3);
        var deadline = Stopwatch.StartNew();
        while (tap.Events.Count(e => e is not TorrentAdded) < 12 && deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            await Task.Delay(200, Ct);
        }
        TestContext.Current.TestOutputHelper?.WriteLine($"brokers down {down.TotalSeconds:0} s; every event arrived {deadline.Elapsed.TotalSeconds:0.0} s after they came back");
        foreach (var hash in hashes)
        {
            var events = tap.Events.Where(e => e.InfoHash == hash && e is not TorrentAdded).ToList();
            Assert.Equal([typeof(TorrentCompleted), typeof(TorrentSeeding), typeof(TorrentStateChanged), typeof(TorrentRemoved)], events.Select(e => e.GetType()));
            Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence), $"sequences of {hash}: {string.Join(", ", events.Select(e => e.Sequence))}");
        }
        await next.FlushAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(0, next.Pending);
        Assert.Equal(0, second.Count);
        await next.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Enqueue_ThousandsOfEventsOfManyTorrents_PublishedManyInFlightEachTorrentInOrder()
    {
        using var kafka = EmbeddedKafka.Start(brokers: 3);
        kafka.CreateTopic(Topics.TorrentEvents, 4);
        using var host = PublisherHost(kafka.BootstrapServers, messageTimeoutMs: 30_000);
        var publisher = host.Services.GetRequiredService<IIntegrationEventPublisher>();
        using var journal = new EventJournal(Path.Combine(_directory, "outbox"), "replica-a");
        using var outbox = new TorrentEventOutbox(publisher, TimeProvider.System, NullLogger<TorrentEventOutbox>.Instance, journal, new TorrentSequences(_directory));
        await outbox.StartAsync(Ct);
        var hashes = Enumerable.Range(0, 50).Select(i => i.ToString("x40", System.Globalization.CultureInfo.InvariantCulture)).ToList();
        outbox.Enqueue(new TorrentAdded(hashes[0], ["alice"], "warm-up", 1, "replica-a"));
        await outbox.FlushAsync(TimeSpan.FromSeconds(20));

        const int Count = 2_000;
        var clock = Stopwatch.StartNew();
        for (var start = 0; start < Count; start += 100)
        {
            outbox.EnqueueRange([.. Enumerable.Range(start, 100).Select(i => (TorrentEvent)new TorrentProgressed(hashes[i % hashes.Count], ["alice"],
                TorrentState.Downloading, i / (double)Count, i, Count, i, 0, 0, 0, 1, 1, 0, [], []))]);
        }
        await outbox.FlushAsync(TimeSpan.FromSeconds(60));
        var elapsed = clock.Elapsed;
        TestContext.Current.TestOutputHelper?.WriteLine($"{Count} events journaled and acknowledged in {elapsed.TotalSeconds:0.00} s");

        Assert.Equal(0, outbox.Pending);
        Assert.Equal(0, journal.Count);
        // One publish at a time waits out the producer's 5 ms linger for each: 2,000 events take at least 10 s that way.
        Assert.True(elapsed < TimeSpan.FromSeconds(8), $"{Count} events took {elapsed.TotalSeconds:0.0} s");
        using var tap = new TorrentEventsTap(kafka.BootstrapServers, 4);
        var deadline = Stopwatch.StartNew();
        while (tap.Events.Count(e => e is TorrentProgressed) < Count && deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(200, Ct);
        }
        var progress = tap.Events.OfType<TorrentProgressed>().ToList();
        Assert.Equal(Count, progress.Select(e => e.Id).Distinct().Count());
        foreach (var hash in hashes)
        {
            // Enqueued in the order of VerifiedBytes per torrent: they must arrive in it, with growing sequences.
            var events = progress.Where(e => e.InfoHash == hash).ToList();
            Assert.Equal(events.OrderBy(e => e.VerifiedBytes).Select(e => e.Id), events.Select(e => e.Id));
            Assert.True(events.Zip(events.Skip(1)).All(p => p.First.Sequence < p.Second.Sequence), $"sequences of {hash}");
        }
        await outbox.StopAsync(CancellationToken.None);
    }

    [Fact]
    public void AppendRange_SeveralEvents_ConsecutivePositionsAndRemoveThroughDropsThePrefix()
    {
        using var journal = new EventJournal(Path.Combine(_directory, "outbox"), "replica-a");
        var hash = new string('c', 40);
        var first = journal.Append(new TorrentAdded(hash, ["alice"], "a", 1, "replica-a"));
        var last = journal.AppendRange([.. Enumerable.Range(0, 5).Select(i => (TorrentEvent)new TorrentCompleted(hash, ["alice"], i))]);
        Assert.Equal(first + 5, last);

        journal.RemoveThrough(first + 3);

        var left = journal.ReadOldest(10);
        Assert.Equal([first + 4, first + 5], left.Select(r => r.Position));
        Assert.Equal([3L, 4L], left.Select(r => ((TorrentCompleted)r.Event).TotalBytes));
        // The body is the bytes written, which the drain publishes as they are.
        Assert.All(left, r => Assert.Equal(IntegrationEventJson.SerializeToUtf8Bytes(r.Event), r.Body));
    }

    [Fact]
    public void Sequences_TorrentMovesToAnotherReplicaAndBack_KeepGrowing()
    {
        var a = new TorrentSequences(_directory);
        var b = new TorrentSequences(_directory);
        var hash = new string('f', 40);
        var first = a.Next(hash);
        var second = a.Next(hash);
        // Another replica takes the torrent (the first died or gave it up): it reserves above what the first reserved.
        var third = b.Next(hash);
        a.Release(hash);
        var fourth = a.Next(hash);
        Assert.True(first < second && second < third && third < fourth, $"{first}, {second}, {third}, {fourth}");
    }

    // By default a produce fails after 2 s while the brokers are away, so the test sees many failed attempts quickly.
    private static IHost PublisherHost(string bootstrapServers, int messageTimeoutMs = 2000)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["ConnectionStrings:kafka"] = bootstrapServers;
        builder.AddKafkaMessaging(configure: o => o.ConfigureProducer = c => c.MessageTimeoutMs = messageTimeoutMs);
        return builder.Build();
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
