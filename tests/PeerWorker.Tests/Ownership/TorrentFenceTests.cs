using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using TorrentEdge.PeerWorker.Extensions;
using TorrentEdge.PeerWorker.Ownership;
using TorrentEdge.PeerWorker.Tests.Support;
using static TorrentEdge.PeerWorker.Tests.Support.TestTorrents;

namespace TorrentEdge.PeerWorker.Tests.Ownership;

/// <summary>Two replicas' fences over one shared resume folder, on a fake clock.</summary>
public sealed class TorrentFenceTests : IDisposable
{
    private static readonly TimeSpan Recheck = TimeSpan.FromMilliseconds(250);
    private readonly string _root = Directory.CreateTempSubdirectory("te-fence-").FullName;
    private readonly FakeTimeProvider _time = new();

    private TorrentFence Fence(string replica, string? logDirectory = null) => new(Options.Create(new PeerWorkerOptions
    {
        DownloadRoot = _root,
        ReplicaId = replica,
        FenceRecheckInterval = Recheck,
        FenceLogDirectory = logDirectory,
    }), _time, NullLogger<TorrentFence>.Instance);

    [Fact]
    public void MayWrite_AnotherReplicaClaimedWhileThisOneWasFrozen_RefusedAtTheFirstWriteAfter()
    {
        using var old = Fence("old");
        using var survivor = Fence("survivor");
        old.Claim(Hash(1));
        Assert.True(old.MayWrite(Hash(1)));

        // Frozen past the session timeout: the monotonic clock runs on; the survivor takes the torrent meanwhile.
        _time.Advance(TimeSpan.FromSeconds(12));
        survivor.Claim(Hash(1));

        Assert.False(old.MayWrite(Hash(1)));
        Assert.True(survivor.MayWrite(Hash(1)));
        // Final: the claim stays refused even once the file would be read no more.
        Assert.False(old.MayWrite(Hash(1)));
    }

    [Fact]
    public void MayWrite_WithinTheRecheckInterval_TrustsTheLastReadingThenReadsAgain()
    {
        using var old = Fence("old");
        using var other = Fence("other");
        old.Claim(Hash(1));
        other.Claim(Hash(1));

        // The bound of the design: a reading younger than the interval is trusted (a takeover takes a session timeout).
        Assert.True(old.MayWrite(Hash(1)));
        _time.Advance(Recheck);
        Assert.False(old.MayWrite(Hash(1)));
    }

    [Fact]
    public void MayWrite_TorrentRemovedByItsNewOwner_EarlierOwnerRefused()
    {
        using var old = Fence("old");
        using var survivor = Fence("survivor");
        old.Claim(Hash(1));
        survivor.Claim(Hash(1));

        survivor.Drop(Hash(1));
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.False(File.Exists(survivor.PathOf(Hash(1))));
        Assert.False(old.MayWrite(Hash(1)));
        Assert.False(survivor.MayWrite(Hash(1)));
    }

    [Fact]
    public void MayWrite_NeverClaimed_Refused()
    {
        using var fence = Fence("a");

        Assert.False(fence.MayWrite(Hash(2)));
    }

    [Fact]
    public void Drop_FileAlreadyClaimedByAnother_KeepsTheirFile()
    {
        using var old = Fence("old");
        using var survivor = Fence("survivor");
        old.Claim(Hash(1));
        survivor.Claim(Hash(1));

        old.Drop(Hash(1));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(survivor.MayWrite(Hash(1)));
    }

    [Fact]
    public void MayWrite_WithALogDirectory_LogsEachAnswerWithItsTime()
    {
        var logs = Path.Combine(_root, "fence-log");
        using (var fence = Fence("a", logs))
        {
            fence.Claim(Hash(1));
            fence.MayWrite(Hash(1));
            fence.MayWrite(Hash(2));
        }

        var lines = File.ReadAllLines(Path.Combine(logs, "a.log"));
        Assert.Equal(["claimed " + Hash(1), "allowed " + Hash(1), "refused " + Hash(2)], lines.Select(l => l[(l.IndexOf(' ') + 1)..]));
        Assert.All(lines, l => DateTimeOffset.Parse(l[..l.IndexOf(' ')], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task HealthCheck_RunningTorrentClaimedByAnother_DegradedNamingIt()
    {
        using var old = Fence("old");
        using var survivor = Fence("survivor");
        var runtime = new FakeTorrentRuntime();
        await runtime.StartAsync(new TorrentEdge.PeerWorker.Runtime.TorrentStartRequest(Hash(1), null, "magnet:?xt=urn:btih:" + Hash(1), _root, false,
            TorrentEdge.Contracts.Torrents.TorrentPriority.Normal, []), TestContext.Current.CancellationToken);
        old.Claim(Hash(1));
        var check = new FenceHealthCheck(runtime, old);
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken)).Status);

        _time.Advance(TimeSpan.FromSeconds(12));
        survivor.Claim(Hash(1));
        var result = await check.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);

        Assert.Equal(HealthStatus.Degraded, result.Status);
        Assert.Contains(Hash(1), result.Description);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
