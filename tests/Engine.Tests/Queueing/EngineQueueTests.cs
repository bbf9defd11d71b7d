using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Queueing;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Queueing;

/// <summary>The engine's queue passes: coalesced, reporting only what changed, and right after many adds in a row.</summary>
public sealed class EngineQueueTests() : TempFolderTest("te-queue-")
{
    [Fact]
    public async Task ManyAddsInARow_FirstTwoDownloadTheRestWaitInOrder_EachQueueReportDiffersFromTheOneBefore()
    {
        var ct = TestContext.Current.CancellationToken;
        const int count = 40;
        var hashes = new List<InfoHash>();
        await using var engine = EngineTestKit.NewEngine(maxActive: 2);
        var torrents = new List<TorrentManager>();
        for (var i = 0; i < count; i++)
        {
            // Nothing on disk where they are saved and no peers: each wants to download for as long as the test runs.
            var (meta, _) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "made", $"t{i}.bin"), 20_000, seed: i, ct);
            hashes.Add(meta.InfoHash);
            torrents.Add(await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "empty") }, ct));
        }

        // The adds did not wait for their passes; one pass after them all decides the same as one per add would have.
        await engine.UpdateQueueAsync(ct);
        for (var i = 0; i < count; i++)
        {
            var expected = i < 2 ? TorrentState.Downloading : TorrentState.Queued;
            await EngineTestKit.WaitForAsync(torrents[i], s => s.State == expected, ct);
        }

        var reports = new List<QueueChangedEvent>();
        while (engine.Events.TryRead(out var e))
        {
            if (e is QueueChangedEvent q) reports.Add(q);
        }
        var last = reports[^1];
        Assert.Equal(hashes.Take(2), last.Active);
        Assert.Equal(hashes.Skip(2), last.Queued);
        for (var i = 1; i < reports.Count; i++)
        {
            Assert.False(reports[i].Active.SequenceEqual(reports[i - 1].Active) && reports[i].Queued.SequenceEqual(reports[i - 1].Queued),
                $"report {i} repeats report {i - 1}: a pass that changed nothing reported anyway");
        }
    }

    [Fact]
    public async Task UpdateQueue_ManyRequestsAtOnce_AllCompleteAndTheQueueHoldsItsDecisions()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var engine = EngineTestKit.NewEngine(maxActive: 1);
        var (first, _) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "made", "a.bin"), 20_000, seed: 1, ct);
        var (second, _) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "made", "b.bin"), 20_000, seed: 2, ct);
        var a = await engine.AddAsync(first, new AddTorrentOptions { SavePath = Path.Combine(Root, "empty") }, ct);
        var b = await engine.AddAsync(second, new AddTorrentOptions { SavePath = Path.Combine(Root, "empty") }, ct);

        // Requests made while a pass runs share the next one; every caller's task still completes.
        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => engine.UpdateQueueAsync(ct))).WaitAsync(TimeSpan.FromSeconds(30), ct);

        await EngineTestKit.WaitForAsync(a, s => s.State == TorrentState.Downloading, ct);
        await EngineTestKit.WaitForAsync(b, s => s.State == TorrentState.Queued, ct);
        await b.SetQueuePriorityAsync(QueuePriority.High, ct);
        await EngineTestKit.WaitForAsync(b, s => s.State == TorrentState.Downloading, ct);
        await EngineTestKit.WaitForAsync(a, s => s.State == TorrentState.Queued, ct);
    }
}
