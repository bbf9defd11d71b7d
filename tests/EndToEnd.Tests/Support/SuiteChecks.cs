using System.Diagnostics;
using TorrentEdge.AppHost.Tests;
using TorrentEdge.Engine.InteropTests.Support;

namespace TorrentEdge.EndToEnd.Tests.Support;

/// <summary>Waits and checks the suite-level tests share: a torrent's status through the Gateway, files byte for byte.</summary>
internal static class SuiteChecks
{
    /// <summary>Polls the torrent's status until <paramref name="condition"/> holds (bounded), logging each change of state or replica.</summary>
    public static async Task<TorrentStatusView> WaitForStatusAsync(GatewayClient api, string hash, Func<TorrentStatusView, bool> condition, TimeSpan bound,
        SuiteApp suite, string what, Action<string> log, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        TorrentStatusView? last = null;
        while (deadline.Elapsed < bound)
        {
            var previous = last;
            last = await api.GetAsync(hash, ct);
            // The timeline in the test output: each change of state or replica.
            if (last is not null && (previous is null || previous.State != last.State || previous.WorkerId != last.WorkerId))
            {
                log($"  {last.Name ?? hash[..8]}: {last.State} on {last.WorkerId ?? "(no replica yet)"}, {last.Progress:P0}");
            }
            if (last is not null && condition(last))
            {
                return last;
            }
            await Task.Delay(250, ct);
        }
        Assert.Fail($"{what}: not within {bound.TotalSeconds} s; last status {last}\n{suite.Tail()}");
        return null!;
    }

    /// <summary>
    /// The orchestrator's instance of a replica that reports itself as <paramref name="replicaId"/>: its replica id
    /// comes from the instance id in <c>OTEL_RESOURCE_ATTRIBUTES</c>.
    /// </summary>
    public static string InstanceOf(SuiteApp suite, string replicaId)
    {
        foreach (var instance in suite.Instances(TorrentEdge.AppHost.Topology.PeerWorker))
        {
            var environment = ProcessTree.Environment(suite.ServicePid(instance.ResourceId));
            var id = environment.GetValueOrDefault("OTEL_RESOURCE_ATTRIBUTES", "").Split(',').Select(a => a.Trim())
                .FirstOrDefault(a => a.StartsWith("service.instance.id=", StringComparison.Ordinal))?["service.instance.id=".Length..];
            if (id is not null && (replicaId == id || replicaId == $"{TorrentEdge.AppHost.Topology.PeerWorker}-{id}"))
            {
                return instance.ResourceId;
            }
        }
        Assert.Fail($"no PeerWorker instance reports itself as {replicaId}: {suite.Describe()}");
        return null!;
    }

    /// <summary>
    /// A libtorrent seeder of <paramref name="torrentPath"/> (at most <paramref name="uploadLimit"/> bytes a second, 0 for
    /// none), added to <paramref name="started"/>; returns once it has announced (libtorrent announces a seed once its
    /// files are checked, so the tracker hands it to the replicas) and seeds.
    /// </summary>
    public static async Task<LibtorrentPeer> StartSeederAsync(string torrentPath, string savePath, int uploadLimit, List<IAsyncDisposable> started,
        CancellationToken ct)
    {
        var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        {
            Seed = true,
            TorrentPath = torrentPath,
            SavePath = savePath,
            UploadLimit = uploadLimit,
            MaxLifetime = TimeSpan.FromMinutes(10),
        }, ct);
        started.Add(seeder);
        await seeder.WaitForAlertAsync("tracker_reply_alert", TimeSpan.FromSeconds(30), ct);
        await seeder.WaitForSeedingAsync(TimeSpan.FromSeconds(30), ct);
        return seeder;
    }

    /// <summary>
    /// What every suite test does last: stops the suite, then what the test started besides it (seeders, trackers), the
    /// latest first, and deletes its work folder (a file still held open leaves it for the machine's temp cleaning).
    /// </summary>
    public static async Task CleanUpAsync(SuiteApp? suite, IEnumerable<IAsyncDisposable> started, string work)
    {
        if (suite is not null)
        {
            await suite.DisposeAsync();
        }
        foreach (var d in started.Reverse())
        {
            await d.DisposeAsync();
        }
        try
        {
            Directory.Delete(work, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>Compares two files in 1 MiB chunks.</summary>
    public static void AssertSameFile(string expected, string actual)
    {
        Assert.True(File.Exists(actual), $"missing {actual}");
        using var a = File.OpenRead(expected);
        using var b = File.OpenRead(actual);
        Assert.Equal(a.Length, b.Length);
        var ba = new byte[1 << 20];
        var bb = new byte[1 << 20];
        for (long offset = 0; ; offset += ba.Length)
        {
            var na = a.ReadAtLeast(ba, ba.Length, throwOnEndOfStream: false);
            var nb = b.ReadAtLeast(bb, bb.Length, throwOnEndOfStream: false);
            Assert.True(na == nb && ba.AsSpan(0, na).SequenceEqual(bb.AsSpan(0, nb)), $"{actual} differs from {expected} near offset {offset}");
            if (na == 0)
            {
                return;
            }
        }
    }
}
