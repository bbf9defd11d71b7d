using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
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
    private readonly ConcurrentQueue<string?> _processOutput = new();
    private TorrentEventsTap? _tap;
    private Process? _process;

    [Fact]
    public async Task TwoReplicas_SplitTheTorrents_AndTheSurvivorTakesOverWhenOneStops()
    {
        var ct = TestContext.Current.CancellationToken;
        var (tap, hashes, downloads) = await ArrangeAsync(ct);

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
        // /health covers the Kafka consumer (with the partitions it holds) and the engine.
        var report = await b.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(ct);
        Assert.Equal(HealthStatus.Healthy, report.Entries["engine"].Status);
        var consumer = report.Entries[$"kafka:{Topics.TorrentSpecs}/peerworker"];
        Assert.Equal(HealthStatus.Healthy, consumer.Status);
        Assert.Equal(string.Join(",", partitionsB.Order()), consumer.Data["partitions"]);

        var hadA = Owned(a);
        _hosts.Remove(a);
        await a.DisposeAsync();

        await WaitForAsync(() => Owned(b).Count == TorrentCount && Running(b).Count == TorrentCount, "replica-b took every torrent over");
        Assert.Superset(hadA.ToHashSet(), Running(b).ToHashSet());

        await WaitForAsync(() => tap.Of<TorrentAdded>().Select(e => e.WorkerId).Distinct().Count() == 2, "both replicas reported TorrentAdded");
        Assert.All(tap.Of<TorrentAdded>(), e => Assert.Equal(["user-1"], e.Owners));
        // replica-a's shutdown published a final status for each torrent it still ran before it left the group.
        await WaitForAsync(() => hadA.Order().SequenceEqual(tap.Of<TorrentStateChanged>()
            .Where(e => e is { WorkerId: "replica-a", State: TorrentState.Stopped }).Select(e => e.InfoHash).Distinct().Order()),
            "replica-a reported its torrents stopped");
    }

    [Fact]
    public async Task KilledReplica_ItsTorrentsMoveToTheSurvivorAfterTheSessionTimeout()
    {
        var ct = TestContext.Current.CancellationToken;
        var (tap, hashes, downloads) = await ArrangeAsync(ct);

        _process = StartProcess(downloads, "replica-killed");
        await WaitForAsync(() => tap.Of<TorrentAdded>().Count(e => e.WorkerId == "replica-killed") == TorrentCount,
            "the replica process started every torrent");

        var b = Start(new PeerWorkerFactory(_kafka.BootstrapServers, downloads, "replica-b"));
        await WaitForAsync(() => Owned(b).Count is > 0 and < TorrentCount, "the replica in this process took some partitions");
        var before = Owned(b).Count;

        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync(ct);

        await WaitForAsync(() => Owned(b).Count == TorrentCount && Running(b).Count == TorrentCount, "replica-b took the killed replica's torrents over");
        Assert.Equal(hashes.Order(), Running(b).Order());
        Assert.True(before < TorrentCount);
    }

    [Fact]
    public async Task Sigterm_SavesResumeDataPublishesFinalStatusAndExitsCleanly()
    {
        var ct = TestContext.Current.CancellationToken;
        var (tap, hashes, downloads) = await ArrangeAsync(ct);
        var resumeFiles = hashes.Select(h => Path.Combine(downloads, h + ".resume")).ToList();

        var process = _process = StartProcess(downloads, "replica-term");
        await WaitForAsync(() => tap.Of<TorrentAdded>().Count(e => e.WorkerId == "replica-term") == TorrentCount, "the replica process started every torrent");
        // Gone (if written already), so only the shutdown can write them again (nothing else runs these torrents).
        resumeFiles.ForEach(File.Delete);
        Assert.DoesNotContain(tap.Of<TorrentStateChanged>(), e => e is { WorkerId: "replica-term", State: TorrentState.Stopped });

        Signal(process, "TERM");
        using (var exit = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            exit.CancelAfter(TimeSpan.FromSeconds(40));
            await process.WaitForExitAsync(exit.Token);
        }

        Assert.Equal(0, process.ExitCode);
        Assert.All(resumeFiles, f => Assert.True(File.Exists(f), "no resume data saved on SIGTERM: " + f));
        await WaitForAsync(() => hashes.Order().SequenceEqual(tap.Of<TorrentStateChanged>()
            .Where(e => e is { WorkerId: "replica-term", State: TorrentState.Stopped }).Select(e => e.InfoHash).Distinct().Order()),
            "the replica published a final Stopped status for every torrent before it exited");
    }

    [Fact]
    public async Task Sigterm_LeavesTheGroup_TheOtherReplicaGetsThePartitionsSoonerThanAfterAKill()
    {
        var ct = TestContext.Current.CancellationToken;
        var sessionTimeout = TimeSpan.FromSeconds(20);
        var (tap, hashes, downloads) = await ArrangeAsync(ct);

        var process = _process = StartProcess(downloads, "replica-term", sessionTimeout);
        await WaitForAsync(() => tap.Of<TorrentAdded>().Count(e => e.WorkerId == "replica-term") == TorrentCount,
            "the replica process started every torrent");
        var b = Start(new PeerWorkerFactory(_kafka.BootstrapServers, downloads, "replica-b", sessionTimeout));
        await WaitForAsync(() => Owned(b).Count is > 0 and < TorrentCount, "the replica in this process took some partitions");

        var signalled = Stopwatch.StartNew();
        Signal(process, "TERM");
        var exited = TimeSpan.Zero;
        _ = process.WaitForExitAsync(ct).ContinueWith(_ => exited = signalled.Elapsed, TaskScheduler.Default);
        await WaitForAsync(() => Owned(b).Count == TorrentCount && Running(b).Count == TorrentCount, "replica-b took every torrent over");
        var takeover = signalled.Elapsed;

        Assert.Equal(hashes.Order(), Running(b).Order());
        Assert.True(exited < sessionTimeout / 2, $"the replica took {exited.TotalSeconds:F1} s to exit");
        // The embedded broker (librdkafka's mock) ends a rebalance after an explicit leave only when it has waited the
        // session timeout less 1 s for the remaining members (a real broker ends it as soon as they rejoined). A member
        // that does not leave is first dropped after the session timeout and then waited for the same way: about twice
        // as long. So under 1.5 session timeouts means the replica left the group.
        Assert.True(takeover < sessionTimeout * 1.5, $"takeover after {takeover.TotalSeconds:F1} s (exit after {exited.TotalSeconds:F1} s), session timeout {sessionTimeout.TotalSeconds} s");
    }

    private static void Signal(Process process, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + signal, process.Id.ToString(CultureInfo.InvariantCulture) } })
            ?? throw new InvalidOperationException("kill did not start.");
        kill.WaitForExit(5_000);
        Assert.Equal(0, kill.ExitCode);
    }

    private Process StartProcess(string downloads, string replicaId, TimeSpan? sessionTimeout = null)
    {
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "TorrentEdge.PeerWorker.dll"));
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        start.Environment["ConnectionStrings__kafka"] = _kafka.BootstrapServers;
        start.Environment["PeerWorker__ReplicaId"] = replicaId;
        start.Environment["PeerWorker__DownloadRoot"] = downloads;
        start.Environment["PeerWorker__ListenAddress"] = "127.0.0.1";
        start.Environment["PeerWorker__PeerPort"] = "0";
        start.Environment["PeerWorker__SessionTimeout"] = (sessionTimeout ?? TimeSpan.FromSeconds(6)).ToString("c", CultureInfo.InvariantCulture);
        start.Environment["services__catalog__http__0"] = "http://127.0.0.1:9";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(start) ?? throw new InvalidOperationException("The PeerWorker process did not start.");
        // Drained so a full pipe never blocks the child.
        process.OutputDataReceived += (_, e) => _processOutput.Enqueue(e.Data);
        process.ErrorDataReceived += (_, e) => _processOutput.Enqueue(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
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
    /// <summary>What every scenario starts from: the topics, a tap on the events, the published specs and the shared download folder.</summary>
    private async Task<(TorrentEventsTap Tap, List<string> Hashes, string Downloads)> ArrangeAsync(CancellationToken ct)
    {
        _kafka.CreateTopic(Topics.TorrentSpecs, Partitions);
        _kafka.CreateTopic(Topics.TorrentEvents, 3);
        var tap = _tap = new TorrentEventsTap(_kafka.BootstrapServers, 3);
        return (tap, await PublishSpecsAsync(ct), Path.Combine(_root, "downloads"));
    }

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

    private async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "Timed out waiting until " + what + ". Process output: "
                + string.Join('\n', _processOutput.TakeLast(40)));
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None);
            }
            _process.Dispose();
        }
        _tap?.Dispose();
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
