using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Analytics.Model;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Analytics.Tests.Model;

public sealed class LiveStatisticsTests
{
    private const string A = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    private const string B = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 23, 12, 0, 0, TimeSpan.Zero));

    private static TorrentProgressed Progress(string hash, IReadOnlyList<string> owners, double progress, long down, long up, long downRate, int seeders)
        => new(hash, owners, TorrentState.Downloading, progress, (long)(progress * 1000), 1000, down, up, downRate, 10, 3, 5, null, [],
            [new TrackerStatus("http://t/announce", "working", seeders, 4, null)]);

    [Fact]
    public void Apply_ProgressOfTwoTorrents_TotalsAndPerUserSum()
    {
        var store = new LiveStatistics(_time);
        store.Apply(new TorrentAdded(A, ["alice"], "a", 1000, "w1"));
        store.Apply(new TorrentAdded(B, ["alice", "bob"], "b", 1000, "w1"));
        store.Apply(Progress(A, ["alice"], 0.5, 500, 100, 50, 5));
        store.Apply(Progress(B, ["alice", "bob"], 0.25, 250, 0, 25, 1));

        var snapshot = store.GetSnapshot();

        Assert.Equal(2, snapshot.Totals.Torrents);
        Assert.Equal(750, snapshot.Totals.BytesDownloaded);
        Assert.Equal(75, snapshot.Totals.DownloadRate);
        var alice = Assert.Single(snapshot.Users, u => u.UserId == "alice");
        Assert.Equal((2, 750L), (alice.Torrents, alice.BytesDownloaded));
        var bob = Assert.Single(snapshot.Users, u => u.UserId == "bob");
        Assert.Equal((1, 250L), (bob.Torrents, bob.BytesDownloaded));
        Assert.Equal((1, 1, 0), (snapshot.SwarmHealth.Healthy, snapshot.SwarmHealth.Weak, snapshot.SwarmHealth.Dead));
    }

    [Fact]
    public void Apply_LowerSequenceAfterHigher_Ignored()
    {
        var store = new LiveStatistics(_time);
        store.Apply(Progress(A, ["alice"], 0.8, 800, 0, 50, 1) with { Sequence = 20_001 });
        // A late progress of the torrent's previous owner.
        var record = store.Apply(Progress(A, ["alice"], 0.3, 300, 0, 90, 1) with { Sequence = 10_007 });

        Assert.Equal((0.8, 20_001L), (record.Progress, record.Sequence));
        Assert.Equal(50, store.GetTorrent(A)!.DownloadRate);
    }

    [Fact]
    public void Apply_SameCompletionTwice_CountedOnce()
    {
        var store = new LiveStatistics(_time);
        var completed = new TorrentCompleted(A, ["alice"], 1000);

        store.Apply(completed);
        store.Apply(completed);
        store.Apply(new TorrentSeeding(A, ["alice"]));

        var snapshot = store.GetSnapshot();
        Assert.Equal(1, snapshot.Totals.Completed);
        Assert.Equal(TorrentState.Seeding, store.GetTorrent(A)!.State);
    }

    [Fact]
    public void GetSnapshot_NoProgressForLong_RatesDropToZero()
    {
        var store = new LiveStatistics(_time);
        store.Apply(Progress(A, ["alice"], 0.5, 500, 0, 80, 0));
        Assert.Equal(80, store.GetSnapshot().Totals.DownloadRate);

        _time.Advance(LiveStatistics.RateStaleAfter + TimeSpan.FromSeconds(1));

        Assert.Equal(0, store.GetSnapshot().Totals.DownloadRate);
        Assert.Equal(SwarmHealth.Dead, store.GetTorrent(A)!.SwarmHealth);
    }

    [Fact]
    public void Apply_Removed_LeavesTotals()
    {
        var store = new LiveStatistics(_time);
        store.Apply(new TorrentAdded(A, ["alice"], "a", 1000, "w1"));
        store.Apply(new TorrentRemoved(A, ["alice"], DataDeleted: true));

        Assert.Equal(0, store.GetSnapshot().Totals.Torrents);
        Assert.Equal(TorrentState.Removed, store.GetTorrent(A)!.State);
    }

    [Fact]
    public void Apply_ProgressOverTime_OneRateSamplePerInterval()
    {
        var store = new LiveStatistics(_time);
        store.Apply(Progress(A, ["alice"], 0.1, 100, 0, 10, 0));
        _time.Advance(TimeSpan.FromSeconds(1));
        store.Apply(Progress(A, ["alice"], 0.2, 200, 0, 20, 0));
        _time.Advance(LiveStatistics.SampleInterval);
        store.Apply(Progress(A, ["alice"], 0.3, 300, 0, 30, 0));

        Assert.Equal([10L, 30L], store.GetSnapshot().RateHistory.Select(s => s.DownloadRate));
    }

    [Fact]
    public void GetSnapshot_ScopedToOwner_OnlyTheirTorrentsAndEntry()
    {
        var store = new LiveStatistics(_time);
        store.Apply(Progress(A, ["alice"], 0.5, 500, 100, 50, 5));
        store.Apply(Progress(B, ["alice", "bob"], 0.25, 250, 0, 25, 1));

        var bob = store.GetSnapshot("bob");

        Assert.Equal((1, 250L, 25L), (bob.Totals.Torrents, bob.Totals.BytesDownloaded, bob.Totals.DownloadRate));
        Assert.Equal("bob", Assert.Single(bob.Users).UserId);
        Assert.Equal((0, 1), (bob.SwarmHealth.Healthy, bob.SwarmHealth.Weak));
        Assert.Empty(bob.RateHistory);
        Assert.Null(store.GetTorrent(A, "bob"));
        Assert.NotNull(store.GetTorrent(B, "bob"));
        Assert.Null(store.GetUser("alice", "bob"));
        Assert.Equal(1, store.GetUser("bob", "bob")?.Torrents);
        Assert.Equal(2, store.GetUser("alice")?.Torrents);
    }
}
