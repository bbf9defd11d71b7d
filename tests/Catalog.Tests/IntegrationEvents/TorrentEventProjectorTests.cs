using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using TorrentEdge.Catalog.Apis;
using TorrentEdge.Catalog.IntegrationEvents;
using TorrentEdge.Catalog.Tests.Apis;
using TorrentEdge.Contracts.Torrents;
using static TorrentEdge.Catalog.Tests.Apis.ProblemAssert;

namespace TorrentEdge.Catalog.Tests.IntegrationEvents;

public sealed class TorrentEventProjectorTests(CatalogFactory factory) : IClassFixture<CatalogFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private TorrentEventProjector Projector => factory.Services.GetRequiredService<TorrentEventProjector>();

    [Fact]
    public async Task Project_LowerSequenceWithLaterClock_IgnoredHigherApplied()
    {
        var user = await factory.UserAsync();
        var torrent = TestTorrents.Single("seq-" + Guid.NewGuid().ToString("N"));
        await TorrentsApiCases.UploadAsync(user, torrent.Bytes);
        string[] owners = ["x"];
        var now = DateTimeOffset.UtcNow;

        await Projector.ProjectAsync(new TorrentStateChanged(torrent.InfoHash, owners, TorrentState.Seeding, "new-owner") { Sequence = 20_001, OccurredAt = now }, Ct);
        // A late event of the previous owner, whose clock runs ahead: its sequence is lower, so it is older.
        await Projector.ProjectAsync(new TorrentStateChanged(torrent.InfoHash, owners, TorrentState.Downloading, "old-owner") { Sequence = 10_050, OccurredAt = now.AddMinutes(5) }, Ct);
        var view = await IsAsync<TorrentView>(await user.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.OK);
        Assert.Equal(TorrentState.Seeding, view.State);

        // A redelivery of the newest is a no-op; a newer sequence applies even with an earlier clock.
        await Projector.ProjectAsync(new TorrentStateChanged(torrent.InfoHash, owners, TorrentState.Paused, "new-owner") { Sequence = 20_002, OccurredAt = now.AddMinutes(-1) }, Ct);
        view = await IsAsync<TorrentView>(await user.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.OK);
        Assert.Equal(TorrentState.Paused, view.State);
    }

    [Fact]
    public async Task Progress_ShowsInStatus()
    {
        var user = await factory.UserAsync();
        var torrent = TestTorrents.Multi("proj-" + Guid.NewGuid().ToString("N"), ("a.bin", 20_000), ("b.bin", 20_000));
        await TorrentsApiCases.UploadAsync(user, torrent.Bytes);
        string[] owners = ["x"];

        await Projector.ProjectAsync(new TorrentAdded(torrent.InfoHash, owners, torrent.Name, 40_000, "worker-1"), Ct);
        await Projector.ProjectAsync(new TorrentProgressed(torrent.InfoHash, owners, TorrentState.Downloading, 0.5, 20_000, 40_000,
            25_000, 5_000, 1_000, 200, 4, 9, 20,
            [new FileProgress("a.bin", 20_000, 20_000, FilePriority.Normal), new FileProgress("b.bin", 20_000, 0, FilePriority.Normal)],
            [new TrackerStatus("http://tracker.example/announce", "working", 7, 3, null)]), Ct);

        var view = await IsAsync<TorrentView>(await user.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.OK);
        Assert.Equal(TorrentState.Downloading, view.State);
        Assert.Equal(0.5, view.Progress);
        Assert.Equal(1_000, view.DownloadRate);
        Assert.Equal(200, view.UploadRate);
        Assert.Equal(4, view.PeersConnected);
        Assert.Equal(9, view.PeersTotal);
        Assert.Equal(20, view.EtaSeconds);
        Assert.Equal(0.2, view.Ratio);
        Assert.Equal([1.0, 0.0], view.Files.Select(f => f.Progress));
        var tracker = Assert.Single(view.Trackers);
        Assert.Equal(("working", 7, 3), (tracker.Health, tracker.Seeders, tracker.Leechers));
        Assert.NotNull(view.StatusUpdatedAt);

        var downloading = await IsAsync<TorrentListView>(await user.GetAsync("/api/torrents?state=downloading", Ct), HttpStatusCode.OK);
        Assert.Contains(downloading.Items, t => t.InfoHash == torrent.InfoHash);

        await Projector.ProjectAsync(new TorrentCompleted(torrent.InfoHash, owners, 40_000), Ct);
        await Projector.ProjectAsync(new TorrentSeeding(torrent.InfoHash, owners), Ct);
        view = await IsAsync<TorrentView>(await user.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.OK);
        Assert.Equal(TorrentState.Seeding, view.State);
        Assert.Equal(1.0, view.Progress);
        Assert.All(view.Files, f => Assert.Equal(1.0, f.Progress));

        await Projector.ProjectAsync(new TorrentFailed(torrent.InfoHash, owners, "disk full"), Ct);
        view = await IsAsync<TorrentView>(await user.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.OK);
        Assert.Equal(TorrentState.Error, view.State);
        Assert.Equal("disk full", view.Error);

        await Projector.ProjectAsync(new TorrentStateChanged(torrent.InfoHash, owners, TorrentState.Paused, "worker-1"), Ct);
        view = await IsAsync<TorrentView>(await user.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.OK);
        Assert.Equal(TorrentState.Paused, view.State);
        Assert.Null(view.Error);
    }

    [Fact]
    public async Task OlderEvent_DoesNotOverwriteNewer()
    {
        var user = await factory.UserAsync();
        var torrent = TestTorrents.Single("order-" + Guid.NewGuid().ToString("N"));
        await TorrentsApiCases.UploadAsync(user, torrent.Bytes);
        var now = DateTimeOffset.UtcNow;
        await Projector.ProjectAsync(new TorrentStateChanged(torrent.InfoHash, [], TorrentState.Seeding, "w") { OccurredAt = now }, Ct);
        await Projector.ProjectAsync(new TorrentStateChanged(torrent.InfoHash, [], TorrentState.Checking, "w") { OccurredAt = now.AddSeconds(-5) }, Ct);
        var view = await IsAsync<TorrentView>(await user.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.OK);
        Assert.Equal(TorrentState.Seeding, view.State);
    }

    [Fact]
    public async Task MetadataReceived_StoresMetainfoAndRepublishes()
    {
        var user = await factory.UserAsync();
        var torrent = TestTorrents.Multi("magnet-" + Guid.NewGuid().ToString("N"), ("one.bin", 1000), ("two.bin", 2000));
        await IsAsync<TorrentView>(await user.PostAsJsonAsync("/api/torrents", new { magnetURI = $"magnet:?xt=urn:btih:{torrent.InfoHash}" }, Ct), HttpStatusCode.Created);

        // Metadata that does not match the info-hash is refused.
        var other = TestTorrents.Single("other-" + Guid.NewGuid().ToString("N"));
        await Projector.ProjectAsync(new TorrentMetadataReceived(torrent.InfoHash, [], "x", 1, 1, other.Bytes), Ct);
        Assert.False((await IsAsync<TorrentView>(await user.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.OK)).MetainfoAvailable);

        await Projector.ProjectAsync(new TorrentMetadataReceived(torrent.InfoHash, [], torrent.Name, 3000, 2, torrent.Bytes), Ct);
        var view = await IsAsync<TorrentView>(await user.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.OK);
        Assert.True(view.MetainfoAvailable);
        Assert.Equal(torrent.Name, view.Name);
        Assert.Equal(3000, view.TotalBytes);
        Assert.Equal([$"{torrent.Name}/one.bin", $"{torrent.Name}/two.bin"], view.Files.Select(f => f.Path));
        // The owner gets the info dictionary around their own trackers (the magnet named none), not the swarm file's.
        var served = TorrentEdge.Engine.Metainfo.TorrentMetainfo.Parse(await user.GetByteArrayAsync($"/api/torrents/{torrent.InfoHash}/metainfo", Ct));
        Assert.Equal(torrent.InfoHash, served.InfoHash.ToHex());
        Assert.Empty(served.AnnounceTiers);

        var spec = await factory.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash && s.Revision == 2);
        Assert.Equal(torrent.Bytes, spec.Metainfo);
        Assert.Equal([FilePriority.Normal, FilePriority.Normal], spec.FilePriorities);

        // Now the files are known, their priorities can be set.
        await IsAsync<TorrentView>(await user.PutAsJsonAsync($"/api/torrents/{torrent.InfoHash}/files",
            new { files = new[] { new { index = 1, priority = "skip" } } }, Ct), HttpStatusCode.OK);
    }

    [Fact]
    public async Task MetadataReceived_SharedMagnetTurnsOutPrivate_OnlyTheAnnouncingOwnerKeepsIt()
    {
        var first = await factory.UserAsync();
        var second = await factory.UserAsync();
        var torrent = TestTorrents.Single("private-magnet-" + Guid.NewGuid().ToString("N"), announce: "https://private.example/KEY1/announce", isPrivate: true);
        var url = $"/api/torrents/{torrent.InfoHash}";
        await IsAsync<TorrentView>(await first.PostAsJsonAsync("/api/torrents",
            new { magnetURI = $"magnet:?xt=urn:btih:{torrent.InfoHash}&tr=https%3A%2F%2Fprivate.example%2FKEY1%2Fannounce" }, Ct), HttpStatusCode.Created);
        await IsAsync<TorrentView>(await second.PostAsJsonAsync("/api/torrents",
            new { magnetURI = $"magnet:?xt=urn:btih:{torrent.InfoHash}&tr=https%3A%2F%2Fprivate.example%2FKEY2%2Fannounce" }, Ct), HttpStatusCode.Created);

        await Projector.ProjectAsync(new TorrentMetadataReceived(torrent.InfoHash, [], torrent.Name, 40_000, 1, torrent.Bytes), Ct);

        // The download announces with the first owner's magnet: it stays theirs alone, and the second owner no longer
        // rides on that private account.
        await IsAsync<TorrentView>(await first.GetAsync(url, Ct), HttpStatusCode.OK);
        await IsProblemAsync(await second.GetAsync(url, Ct), HttpStatusCode.NotFound);
        var spec = await factory.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash && s.Revision == 3);
        Assert.Single(spec.Owners);
    }

    [Fact]
    public async Task EventsFromKafka_ReachTheStatus()
    {
        var user = await factory.UserAsync();
        var torrent = TestTorrents.Single("kafka-" + Guid.NewGuid().ToString("N"));
        await TorrentsApiCases.UploadAsync(user, torrent.Bytes);

        // What a PeerWorker does: publish to torrent-events keyed by info-hash.
        var publisher = factory.Services.GetRequiredService<TorrentEdge.ServiceDefaults.Messaging.IIntegrationEventPublisher>();
        await publisher.PublishAsync(TorrentEdge.Contracts.Topics.TorrentEvents, torrent.InfoHash,
            new TorrentStateChanged(torrent.InfoHash, [], TorrentState.Checking, "worker-9"), Ct);
        await publisher.PublishAsync(TorrentEdge.Contracts.Topics.TorrentEvents, torrent.InfoHash,
            new TorrentProgressed(torrent.InfoHash, [], TorrentState.Downloading, 0.25, 10_000, 40_000, 10_000, 0, 5_000, 0, 2, 3, 6, [], []), Ct);

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        TorrentView view;
        do
        {
            await Task.Delay(100, timeout.Token);
            view = await IsAsync<TorrentView>(await user.GetAsync($"/api/torrents/{torrent.InfoHash}", Ct), HttpStatusCode.OK);
        }
        while (view.Progress != 0.25);
        Assert.Equal(TorrentState.Downloading, view.State);
        Assert.Equal(5_000, view.DownloadRate);
    }

    [Fact]
    public async Task UnknownTorrent_Ignored()
    {
        await Projector.ProjectAsync(new TorrentSeeding(new string('f', 40), []), Ct);
    }
}
