using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using TorrentEdge.Catalog.Apis;
using TorrentEdge.Catalog.Apis.QBittorrent;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.IntegrationEvents;
using TorrentEdge.Catalog.Tests.Apis;
using TorrentEdge.Contracts.Torrents;
using static TorrentEdge.Catalog.Tests.Apis.ProblemAssert;

namespace TorrentEdge.Catalog.Tests.Infrastructure;

public sealed class ShareLimitEnforcerTests(CatalogFactory factory) : IClassFixture<CatalogFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private TorrentEventProjector Projector => factory.Services.GetRequiredService<TorrentEventProjector>();

    private ShareLimitEnforcer Enforcer => factory.Services.GetRequiredService<ShareLimitEnforcer>();

    /// <summary>A complete seed of 40,000 bytes that uploaded <paramref name="uploaded"/>, seeding since <paramref name="since"/>.</summary>
    private async Task SeedAsync(string hash, long uploaded, DateTimeOffset since)
    {
        await Projector.ProjectAsync(new TorrentStateChanged(hash, ["x"], TorrentState.Seeding, "w") { OccurredAt = since }, Ct);
        await Projector.ProjectAsync(new TorrentProgressed(hash, ["x"], TorrentState.Seeding, 1, 40_000, 40_000, 40_000, uploaded, 0, 500, 1, 1, null, [], [])
        { OccurredAt = since.AddSeconds(1) }, Ct);
    }

    private async Task<(HttpClient Client, TestTorrents.TestTorrent Torrent)> SeedingTorrentAsync(long uploaded, DateTimeOffset since)
    {
        var user = await factory.UserAsync();
        var torrent = TestTorrents.Single("share-" + Guid.NewGuid().ToString("N"));
        await TorrentsApiCases.UploadAsync(user, torrent.Bytes);
        await SeedAsync(torrent.InfoHash, uploaded, since);
        return (user, torrent);
    }

    private static async Task<TorrentView> ViewAsync(HttpClient user, string hash) =>
        await IsAsync<TorrentView>(await user.GetAsync($"/api/torrents/{hash}", Ct), HttpStatusCode.OK);

    [Fact]
    public async Task Check_RatioLimitReached_PausesTheTorrentForItsOwner()
    {
        var (user, torrent) = await SeedingTorrentAsync(uploaded: 60_000, DateTimeOffset.UtcNow);
        await IsAsync<ShareLimitsView>(await user.PutAsJsonAsync($"/api/torrents/{torrent.InfoHash}/share-limits", new { ratioLimit = 1.0 }, Ct), HttpStatusCode.OK);

        await Enforcer.CheckAsync(Ct);

        var view = await ViewAsync(user, torrent.InfoHash);
        Assert.True(view.Paused);
        // The desired state went out: the spec Catalog publishes for the workers says paused.
        var spec = await factory.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash && s.Paused, TimeSpan.FromSeconds(20));
        Assert.True(spec.Paused);
    }

    [Fact]
    public async Task Check_BelowLimitOrNoLimit_KeepsSeeding()
    {
        var (user, below) = await SeedingTorrentAsync(uploaded: 30_000, DateTimeOffset.UtcNow);
        await user.PutAsJsonAsync($"/api/torrents/{below.InfoHash}/share-limits", new { ratioLimit = 1.0 }, Ct);
        var (other, unlimited) = await SeedingTorrentAsync(uploaded: 400_000, DateTimeOffset.UtcNow.AddDays(-3));

        await Enforcer.CheckAsync(Ct);

        Assert.False((await ViewAsync(user, below.InfoHash)).Paused);
        Assert.False((await ViewAsync(other, unlimited.InfoHash)).Paused);
    }

    [Fact]
    public async Task Check_UserDefaultSeedingTime_PausesUnlessTheTorrentSaysNoLimit()
    {
        var user = await factory.UserAsync();
        var me = await user.GetFromJsonAsync<UserView>("/api/auth/me", Json, Ct);
        // What qBittorrent's app/setPreferences stores: 1 minute of seeding at most, by default.
        await QBittorrentPreferences.SaveAsync(factory.Services.GetRequiredService<ICatalogStore>(), me!.Id,
            new JsonObject { ["max_seeding_time_enabled"] = true, ["max_seeding_time"] = 1 }, Ct);
        var byDefault = TestTorrents.Single("default-" + Guid.NewGuid().ToString("N"));
        var exempt = TestTorrents.Single("exempt-" + Guid.NewGuid().ToString("N"));
        var fresh = TestTorrents.Single("fresh-" + Guid.NewGuid().ToString("N"));
        foreach (var t in new[] { byDefault, exempt, fresh })
        {
            await TorrentsApiCases.UploadAsync(user, t.Bytes);
        }
        await SeedAsync(byDefault.InfoHash, 0, DateTimeOffset.UtcNow.AddMinutes(-2));
        await SeedAsync(exempt.InfoHash, 0, DateTimeOffset.UtcNow.AddMinutes(-2));
        await SeedAsync(fresh.InfoHash, 0, DateTimeOffset.UtcNow.AddSeconds(-5));
        await user.PutAsJsonAsync($"/api/torrents/{exempt.InfoHash}/share-limits", new { seedingTimeLimit = -1 }, Ct);

        await Enforcer.CheckAsync(Ct);

        Assert.True((await ViewAsync(user, byDefault.InfoHash)).Paused);
        Assert.False((await ViewAsync(user, exempt.InfoHash)).Paused);
        Assert.False((await ViewAsync(user, fresh.InfoHash)).Paused);
    }

    [Fact]
    public void TrackSeedingTime_SeedingPausedSeeding_AddsThePhases()
    {
        var status = new Model.TorrentStatus { State = TorrentState.Seeding };
        var t0 = DateTimeOffset.UnixEpoch;

        TorrentEventProjector.TrackSeedingTime(status, TorrentState.Downloading, t0);
        status.State = TorrentState.Paused;
        TorrentEventProjector.TrackSeedingTime(status, TorrentState.Seeding, t0.AddSeconds(100));
        status.State = TorrentState.Seeding;
        TorrentEventProjector.TrackSeedingTime(status, TorrentState.Paused, t0.AddSeconds(1000));

        Assert.Equal(130, status.SeedingSeconds(t0.AddSeconds(1030)));
    }
}
