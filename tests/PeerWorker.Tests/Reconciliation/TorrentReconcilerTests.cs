using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.PeerWorker.Tests.Support;
using static TorrentEdge.PeerWorker.Tests.Support.TestTorrents;

namespace TorrentEdge.PeerWorker.Tests.Reconciliation;

public sealed class TorrentReconcilerTests
{
    private static readonly byte[] SomeMetainfo = [1, 2, 3];

    [Fact]
    public async Task NewSpec_WithInlineMetainfo_StartsAndPublishesAddedWithOwners()
    {
        await using var h = new ReconcilerHarness();
        await h.StartAsync();

        await h.ApplyAsync(Spec(Hash(1), metainfo: SomeMetainfo, owner: "alice"));

        Assert.Equal([$"start {Hash(1)} metainfo"], h.Runtime.Calls);
        var request = h.Runtime.Running[Hash(1)];
        Assert.Equal(Path.Combine(Path.GetFullPath(h.Options.Value.DownloadRoot), Hash(1)), request.Folder);
        var added = Assert.Single(h.Publisher.Of<TorrentAdded>());
        Assert.Equal(["alice"], added.Owners);
        Assert.Equal("replica-a", added.WorkerId);
        Assert.All(h.Publisher.Published, p => Assert.Equal((Topics.TorrentEvents, Hash(1)), (p.Topic, p.Key)));
        Assert.True(h.Owned.Contains(Hash(1)));
    }

    [Fact]
    public async Task NewSpec_WithoutInlineMetainfo_FetchesItFromCatalog()
    {
        await using var h = new ReconcilerHarness();
        await h.StartAsync();
        h.Catalog.Metainfo[Hash(1)] = SomeMetainfo;

        await h.ApplyAsync(Spec(Hash(1), metainfoAvailable: true));

        Assert.Equal([Hash(1)], h.Catalog.Requests);
        Assert.Same(SomeMetainfo, h.Runtime.Running[Hash(1)].Metainfo);
    }

    [Fact]
    public async Task NewSpec_MagnetOnly_StartsFromTheMagnet()
    {
        await using var h = new ReconcilerHarness();
        await h.StartAsync();

        await h.ApplyAsync(Spec(Hash(1), magnet: "magnet:?xt=urn:btih:" + Hash(1)));

        Assert.Equal([$"start {Hash(1)} magnet"], h.Runtime.Calls);
        Assert.Empty(h.Catalog.Requests);
    }

    [Fact]
    public async Task NewSpec_NeitherMetainfoNorMagnet_FailsOnceWithAReason()
    {
        await using var h = new ReconcilerHarness();
        await h.StartAsync();

        await h.ApplyAsync(Spec(Hash(1)));
        h.Reconciler.Enqueue(Hash(1));
        await h.SettleAsync();

        Assert.Empty(h.Runtime.Calls);
        var failed = Assert.Single(h.Publisher.Of<TorrentFailed>());
        Assert.Contains("magnet", failed.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PausedFlips_PausesThenResumes()
    {
        await using var h = new ReconcilerHarness();
        await h.StartAsync();
        await h.ApplyAsync(Spec(Hash(1), revision: 1, metainfo: SomeMetainfo));

        await h.ApplyAsync(Spec(Hash(1), revision: 2, metainfo: SomeMetainfo, paused: true));
        await h.ApplyAsync(Spec(Hash(1), revision: 3, metainfo: SomeMetainfo, paused: false));

        Assert.Equal([$"start {Hash(1)} metainfo", $"pause {Hash(1)}", $"resume {Hash(1)}"], h.Runtime.Calls);
    }

    [Fact]
    public async Task PriorityAndFilePriorities_Change_AreApplied()
    {
        await using var h = new ReconcilerHarness();
        await h.StartAsync();
        await h.ApplyAsync(Spec(Hash(1), revision: 1, metainfo: SomeMetainfo));

        await h.ApplyAsync(Spec(Hash(1), revision: 2, metainfo: SomeMetainfo, priority: TorrentPriority.High,
            files: [FilePriority.Skip, FilePriority.High]));

        Assert.Contains($"priority {Hash(1)} High", h.Runtime.Calls);
        Assert.Contains($"files {Hash(1)} Skip,High", h.Runtime.Calls);
    }

    [Fact]
    public async Task Encryption_InTheSpec_StartsWithItAndChangesAreApplied()
    {
        await using var h = new ReconcilerHarness();
        await h.StartAsync();
        await h.ApplyAsync(Spec(Hash(1), revision: 1, metainfo: SomeMetainfo) with { Encryption = PeerEncryption.Require });
        Assert.Equal(PeerEncryption.Require, h.Runtime.Running[Hash(1)].Encryption);

        await h.ApplyAsync(Spec(Hash(1), revision: 2, metainfo: SomeMetainfo, paused: true) with { Encryption = PeerEncryption.Require });
        await h.ApplyAsync(Spec(Hash(1), revision: 3, metainfo: SomeMetainfo, paused: true) with { Encryption = PeerEncryption.Disable });
        await h.ApplyAsync(Spec(Hash(1), revision: 4, metainfo: SomeMetainfo, paused: true));

        Assert.Equal([$"encryption {Hash(1)} Disable", $"encryption {Hash(1)} default"], h.Runtime.Calls.Where(c => c.StartsWith("encryption", StringComparison.Ordinal)));
    }

    [Fact]
    public void Encryption_OnTheWire_RoundTripsAndIsNullInAnOlderSpec()
    {
        var options = TorrentEdge.ServiceDefaults.Messaging.IntegrationEventJson.Options;
        var spec = Spec(Hash(1), metainfo: SomeMetainfo) with { Encryption = PeerEncryption.Require };
        var json = System.Text.Json.JsonSerializer.Serialize(spec, options);
        Assert.Contains("\"encryption\":\"Require\"", json);
        Assert.Equal(PeerEncryption.Require, System.Text.Json.JsonSerializer.Deserialize<TorrentSpecChanged>(json, options)!.Encryption);

        // A spec published before the field existed.
        var older = json.Replace(",\"encryption\":\"Require\"", "", StringComparison.Ordinal);
        Assert.DoesNotContain("encryption", older);
        Assert.Null(System.Text.Json.JsonSerializer.Deserialize<TorrentSpecChanged>(older, options)!.Encryption);
    }

    [Fact]
    public async Task RecheckGeneration_Grows_RechecksOnlyThen()
    {
        await using var h = new ReconcilerHarness();
        await h.StartAsync();
        await h.ApplyAsync(Spec(Hash(1), revision: 1, metainfo: SomeMetainfo, recheck: 4));

        await h.ApplyAsync(Spec(Hash(1), revision: 2, metainfo: SomeMetainfo, recheck: 4, paused: true));
        await h.ApplyAsync(Spec(Hash(1), revision: 3, metainfo: SomeMetainfo, recheck: 5, paused: true));

        Assert.Single(h.Runtime.Calls, c => c.StartsWith("recheck", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Removed_WithData_RemovesAndPublishesRemoved()
    {
        await using var h = new ReconcilerHarness();
        await h.StartAsync();
        await h.ApplyAsync(Spec(Hash(1), revision: 1, metainfo: SomeMetainfo));

        await h.ApplyAsync(Spec(Hash(1), revision: 2, removed: true, deleteData: true));

        Assert.Equal($"remove {Hash(1)} data=True", h.Runtime.Calls.Last());
        Assert.True(Assert.Single(h.Publisher.Of<TorrentRemoved>()).DataDeleted);
        Assert.False(h.Owned.Contains(Hash(1)));
    }

    [Fact]
    public async Task Removed_WithoutData_NotRunningHere_DoesNothing()
    {
        await using var h = new ReconcilerHarness();
        await h.StartAsync();

        await h.ApplyAsync(Spec(Hash(1), revision: 2, removed: true, deleteData: false));

        Assert.Empty(h.Runtime.Calls);
        Assert.Empty(h.Publisher.Published);
    }

    [Fact]
    public async Task BurstOfRevisions_CollapsesIntoOnePassWithTheLatest()
    {
        await using var h = new ReconcilerHarness();
        // Folded before the loop runs: the queue holds the torrent once, and the pass sees revision 3.
        for (var revision = 1; revision <= 3; revision++)
        {
            if (h.Desired.Apply(0, Spec(Hash(1), revision: revision, metainfo: SomeMetainfo, paused: revision == 3)))
            {
                h.Reconciler.Enqueue(Hash(1));
            }
        }
        await h.StartAsync();
        await h.SettleAsync();

        Assert.Equal([$"start {Hash(1)} metainfo paused"], h.Runtime.Calls);
    }

    [Fact]
    public async Task Release_PartitionTorrents_StopsThemBeforeReturning()
    {
        await using var h = new ReconcilerHarness();
        await h.StartAsync();
        await h.ApplyAsync(Spec(Hash(1), metainfo: SomeMetainfo), partition: 0);
        await h.ApplyAsync(Spec(Hash(2), metainfo: SomeMetainfo), partition: 1);

        var dropped = h.Desired.Release([1]);
        var stopped = h.Reconciler.Release(dropped, TimeSpan.FromSeconds(10));

        Assert.True(stopped);
        Assert.Contains($"stop {Hash(2)}", h.Runtime.Calls);
        Assert.DoesNotContain($"stop {Hash(1)}", h.Runtime.Calls);
        Assert.Equal([Hash(1)], h.Owned.InfoHashes);
    }

    [Fact]
    public async Task StartFails_IsReportedOnceAndRetried()
    {
        await using var h = new ReconcilerHarness();
        await h.StartAsync();
        h.Runtime.FailStarts[Hash(1)] = 1;

        await h.ApplyAsync(Spec(Hash(1), metainfo: SomeMetainfo));
        // The first retry comes after a second.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!h.Runtime.Running.ContainsKey(Hash(1)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
        await h.SettleAsync();

        Assert.True(h.Runtime.Running.ContainsKey(Hash(1)));
        Assert.Contains("disk on fire", Assert.Single(h.Publisher.Of<TorrentFailed>()).Reason, StringComparison.Ordinal);
        Assert.Single(h.Publisher.Of<TorrentAdded>());
    }

    [Fact]
    public async Task HostStops_StopsEveryTorrentAndPublishesFinalStatus()
    {
        var h = new ReconcilerHarness();
        await h.StartAsync();
        await h.ApplyAsync(Spec(Hash(1), metainfo: SomeMetainfo));
        await h.ApplyAsync(Spec(Hash(2), metainfo: SomeMetainfo), partition: 1);

        await h.DisposeAsync();

        Assert.Contains($"stop {Hash(1)}", h.Runtime.Calls);
        Assert.Contains($"stop {Hash(2)}", h.Runtime.Calls);
        Assert.Equal(2, h.Publisher.Of<TorrentProgressed>().Count);
        Assert.All(h.Publisher.Of<TorrentStateChanged>(), e => Assert.Equal(TorrentState.Stopped, e.State));
        Assert.Equal(0, h.Owned.Count);
    }
}
