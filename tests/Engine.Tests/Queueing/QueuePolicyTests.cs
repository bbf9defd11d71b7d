using TorrentEdge.Engine.Queueing;

namespace TorrentEdge.Engine.Tests.Queueing;

public class QueuePolicyTests
{
    private static QueueEntry<string> Download(string key, long added, QueuePriority priority = QueuePriority.Normal) =>
        new(key, priority, added, TorrentWant.Download);

    private static QueueEntry<string> Seed(string key, long added, double ratio = 0, TimeSpan time = default) =>
        new(key, QueuePriority.Normal, added, TorrentWant.Seed, ratio, time);

    private static Dictionary<string, QueueDecision<string>> Decide(QueueLimits? limits, params QueueEntry<string>[] entries) =>
        QueuePolicy.Decide(entries, limits).ToDictionary(d => d.Key);

    [Fact]
    public void Decide_MoreDownloadsThanSlots_FirstThreeActiveRestQueuedInOrder()
    {
        var d = Decide(null, Download("e", 5), Download("a", 1), Download("c", 3), Download("b", 2), Download("d", 4));

        Assert.Equal(QueueState.Active, d["a"].State);
        Assert.Equal(QueueState.Active, d["b"].State);
        Assert.Equal(QueueState.Active, d["c"].State);
        Assert.Equal(new QueueDecision<string>("d", QueueState.Queued, 0), d["d"]);
        Assert.Equal(new QueueDecision<string>("e", QueueState.Queued, 1), d["e"]);
    }

    [Fact]
    public void Decide_HighPriorityAddedLast_JumpsTheQueue()
    {
        var d = Decide(new QueueLimits { MaxActiveDownloads = 1 },
            Download("old", 1), Download("low", 0, QueuePriority.Low), Download("urgent", 9, QueuePriority.High));

        Assert.Equal(QueueState.Active, d["urgent"].State);
        Assert.Equal(0, d["old"].Position);
        Assert.Equal(1, d["low"].Position);
    }

    [Fact]
    public void Decide_PausedTorrents_TakeNoSlot()
    {
        var d = Decide(new QueueLimits { MaxActiveDownloads = 1 },
            new QueueEntry<string>("p", QueuePriority.High, 0, TorrentWant.Paused), Download("a", 1));

        Assert.Equal(QueueState.Paused, d["p"].State);
        Assert.Equal(-1, d["p"].Position);
        Assert.Equal(QueueState.Active, d["a"].State);
    }

    [Fact]
    public void Decide_SeedsHaveTheirOwnSlots()
    {
        var d = Decide(new QueueLimits { MaxActiveDownloads = 1, MaxActiveSeeds = 1 },
            Download("d1", 1), Download("d2", 2), Seed("s1", 3), Seed("s2", 4));

        Assert.Equal(QueueState.Active, d["d1"].State);
        Assert.Equal(QueueState.Active, d["s1"].State);
        Assert.Equal(new QueueDecision<string>("d2", QueueState.Queued, 0), d["d2"]);
        Assert.Equal(new QueueDecision<string>("s2", QueueState.Queued, 0), d["s2"]);
    }

    [Fact]
    public void Decide_NoSeedLimit_AllSeedsActive()
    {
        var d = Decide(null, Enumerable.Range(0, 20).Select(i => Seed("s" + i, i)).ToArray());

        Assert.All(d.Values, x => Assert.Equal(QueueState.Active, x.State));
    }

    [Fact]
    public void Decide_SeedRatioOrTimeReached_Finished()
    {
        var limits = new QueueLimits { SeedRatioLimit = 2.0, SeedTimeLimit = TimeSpan.FromHours(1), MaxActiveSeeds = 1 };

        var d = Decide(limits,
            Seed("ratio", 1, ratio: 2.0), Seed("time", 2, time: TimeSpan.FromHours(1)), Seed("going", 3, ratio: 1.9, time: TimeSpan.FromMinutes(59)));

        Assert.Equal(QueueState.Finished, d["ratio"].State);
        Assert.Equal(QueueState.Finished, d["time"].State);
        Assert.Equal(QueueState.Active, d["going"].State); // finished ones freed the only slot
    }

    [Fact]
    public void Decide_PerTorrentLimitOverridesGlobal()
    {
        var limits = new QueueLimits { SeedRatioLimit = 1.0 };

        var d = Decide(limits, Seed("x", 1, ratio: 1.5) with { SeedRatioLimit = 3.0 }, Seed("y", 2, ratio: 1.5));

        Assert.Equal(QueueState.Active, d["x"].State);
        Assert.Equal(QueueState.Finished, d["y"].State);
    }

    [Fact]
    public void Decide_ResultInInputOrder()
    {
        var result = QueuePolicy.Decide([Download("b", 2), Download("a", 1)]);

        Assert.Equal(["b", "a"], result.Select(r => r.Key));
    }
}
