using System.Net;
using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using TorrentEdge.Catalog.Apis;
using TorrentEdge.Catalog.IntegrationEvents;
using TorrentEdge.Contracts.Torrents;
using static TorrentEdge.Catalog.Tests.Apis.ProblemAssert;

namespace TorrentEdge.Catalog.Tests.Apis;

public sealed class TorrentDetailsApiTests(CatalogFactory factory) : IClassFixture<CatalogFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private TorrentEventProjector Projector => factory.Services.GetRequiredService<TorrentEventProjector>();

    private static TorrentProgressed Progress(string hash, TorrentState state = TorrentState.Downloading) =>
        new(hash, ["x"], state, 0.5, 20_000, 40_000, 20_000, 0, 1_000, 0, 2, 5, 20, [], []);

    private static PeerStatus Peer(string address, string source, long rate) =>
        new(address, "libtorrent 2080", source, source == "incoming", false, 0.75, rate, 0, 8_192, 0, false, true);

    [Fact]
    public async Task GetPeers_AfterProgressWithPeers_ListsThemUntilPaused()
    {
        var user = await factory.UserAsync();
        var torrent = TestTorrents.Single("peers-" + Guid.NewGuid().ToString("N"));
        await TorrentsApiCases.UploadAsync(user, torrent.Bytes);

        await Projector.ProjectAsync(Progress(torrent.InfoHash) with
        {
            Peers = [Peer("127.0.0.1:7001", "tracker", 900), Peer("127.0.0.1:50123", "incoming", 100)],
        }, Ct);
        var peers = await IsAsync<PeerListView>(await user.GetAsync($"/api/torrents/{torrent.InfoHash}/peers", Ct), HttpStatusCode.OK);

        Assert.Equal(["127.0.0.1:7001", "127.0.0.1:50123"], peers.Items.Select(p => p.Address));
        Assert.Equal(["tracker", "incoming"], peers.Items.Select(p => p.Source));
        Assert.All(peers.Items, p => Assert.Equal(("libtorrent 2080", false, 0.75), (p.Client, p.Encrypted, p.Progress)));
        Assert.Equal((2, 5), (peers.Connected, peers.Known));

        // A paused torrent has no peers, whatever the last progress said.
        await Projector.ProjectAsync(new TorrentStateChanged(torrent.InfoHash, ["x"], TorrentState.Paused, "w"), Ct);
        peers = await IsAsync<PeerListView>(await user.GetAsync($"/api/torrents/{torrent.InfoHash}/peers", Ct), HttpStatusCode.OK);
        Assert.Empty(peers.Items);
    }

    [Fact]
    public async Task GetPieces_AfterProgressWithBitfield_ReturnsItUntilANewOne()
    {
        var user = await factory.UserAsync();
        var torrent = TestTorrents.Single("pieces-" + Guid.NewGuid().ToString("N")); // 40,000 bytes in 16 KiB pieces: 3
        await TorrentsApiCases.UploadAsync(user, torrent.Bytes);
        var before = await IsAsync<PieceMapView>(await user.GetAsync($"/api/torrents/{torrent.InfoHash}/pieces", Ct), HttpStatusCode.OK);
        Assert.Null(before.Bitfield);

        await Projector.ProjectAsync(Progress(torrent.InfoHash) with { PieceBitfield = [0b1010_0000], PieceCount = 3 }, Ct);
        // Progress without a bitfield means "unchanged"; one of the wrong length is ignored.
        await Projector.ProjectAsync(Progress(torrent.InfoHash) with { PieceCount = 3 }, Ct);
        await Projector.ProjectAsync(Progress(torrent.InfoHash) with { PieceBitfield = [0xFF, 0xFF], PieceCount = 3 }, Ct);
        var map = await IsAsync<PieceMapView>(await user.GetAsync($"/api/torrents/{torrent.InfoHash}/pieces", Ct), HttpStatusCode.OK);

        Assert.Equal((3, 2, Convert.ToBase64String([0b1010_0000])), (map.PieceCount, map.Have, map.Bitfield));
        Assert.NotNull(map.UpdatedAt);
    }

    [Fact]
    public async Task Details_OtherUsersTorrentOrBadHash_ProblemDetails()
    {
        var alice = await factory.UserAsync();
        var bob = await factory.UserAsync();
        var torrent = TestTorrents.Single("private-" + Guid.NewGuid().ToString("N"));
        await TorrentsApiCases.UploadAsync(alice, torrent.Bytes);

        await IsProblemAsync(await bob.GetAsync($"/api/torrents/{torrent.InfoHash}/peers", Ct), HttpStatusCode.NotFound, "Unknown torrent");
        await IsProblemAsync(await bob.GetAsync($"/api/torrents/{torrent.InfoHash}/pieces", Ct), HttpStatusCode.NotFound, "Unknown torrent");
        await IsProblemAsync(await bob.GetAsync($"/api/torrents/{torrent.InfoHash}/share-limits", Ct), HttpStatusCode.NotFound, "Unknown torrent");
        await IsProblemAsync(await alice.GetAsync("/api/torrents/xyz/pieces", Ct), HttpStatusCode.BadRequest, "Invalid info-hash");
    }

    [Fact]
    public async Task PutShareLimits_ValidOrNot_StoredOrRefused()
    {
        var user = await factory.UserAsync();
        var torrent = TestTorrents.Single("limits-" + Guid.NewGuid().ToString("N"));
        await TorrentsApiCases.UploadAsync(user, torrent.Bytes);
        var url = $"/api/torrents/{torrent.InfoHash}/share-limits";

        var initial = await IsAsync<ShareLimitsView>(await user.GetAsync(url, Ct), HttpStatusCode.OK);
        Assert.Equal((-2.0, -2L, (double?)null, (long?)null), (initial.RatioLimit, initial.SeedingTimeLimit, initial.EffectiveRatioLimit, initial.EffectiveSeedingTimeLimit));

        var set = await IsAsync<ShareLimitsView>(await user.PutAsJsonAsync(url, new { ratioLimit = 1.5, seedingTimeLimit = 90 }, Ct), HttpStatusCode.OK);
        Assert.Equal((1.5, 90L, (double?)1.5, (long?)90), (set.RatioLimit, set.SeedingTimeLimit, set.EffectiveRatioLimit, set.EffectiveSeedingTimeLimit));

        await IsProblemAsync(await user.PutAsJsonAsync(url, new { ratioLimit = -5 }, Ct), HttpStatusCode.BadRequest, "Invalid ratio limit");
        await IsProblemAsync(await user.PutAsJsonAsync(url, new { seedingTimeLimit = -7 }, Ct), HttpStatusCode.BadRequest, "Invalid seeding time limit");
        // Refused input changed nothing.
        var after = await IsAsync<ShareLimitsView>(await user.GetAsync(url, Ct), HttpStatusCode.OK);
        Assert.Equal((1.5, 90L), (after.RatioLimit, after.SeedingTimeLimit));
    }

    [Fact]
    public async Task AddTorrent_WithCategoryAndTags_ShownInViewListAndNames()
    {
        var user = await factory.UserAsync();
        var torrent = TestTorrents.Single("labelled-" + Guid.NewGuid().ToString("N"));

        var added = await IsAsync<TorrentView>(await TorrentsApiCases.UploadAsync(user, torrent.Bytes, ("category", "tv"), ("tags", "hd, weekly")), HttpStatusCode.Created);
        var magnet = await IsAsync<TorrentView>(await user.PostAsJsonAsync("/api/torrents",
            new { magnetURI = "magnet:?xt=urn:btih:" + new string('7', 40), category = "movies", tags = new[] { "4k" } }, Ct), HttpStatusCode.Created);

        Assert.Equal(("tv", "hd,weekly"), (added.Category, string.Join(',', added.Tags!)));
        Assert.Equal(("movies", "4k"), (magnet.Category, string.Join(',', magnet.Tags!)));
        var list = await IsAsync<TorrentListView>(await user.GetAsync("/api/torrents", Ct), HttpStatusCode.OK);
        Assert.Equal("tv", list.Items.Single(t => t.InfoHash == torrent.InfoHash).Category);
        Assert.Equal(["movies", "tv"], (await user.GetFromJsonAsync<string[]>("/api/categories", Ct))!.Order());
        Assert.Equal(["4k", "hd", "weekly"], (await user.GetFromJsonAsync<string[]>("/api/tags", Ct))!.Order());
    }

    [Fact]
    public async Task ListTorrents_CategoryOrTagFilter_OnlyTheCallersMatchingTorrents()
    {
        var user = await factory.UserAsync();
        var tv = TestTorrents.Single("f-tv-" + Guid.NewGuid().ToString("N"));
        var film = TestTorrents.Single("f-film-" + Guid.NewGuid().ToString("N"));
        var plain = TestTorrents.Single("f-plain-" + Guid.NewGuid().ToString("N"));
        await TorrentsApiCases.UploadAsync(user, tv.Bytes, ("category", "tv"), ("tags", "hd"));
        await TorrentsApiCases.UploadAsync(user, film.Bytes, ("category", "movies"), ("tags", "hd,4k"));
        await TorrentsApiCases.UploadAsync(user, plain.Bytes);
        async Task<string[]> Names(string query) =>
            [.. (await IsAsync<TorrentListView>(await user.GetAsync("/api/torrents?sort=name&" + query, Ct), HttpStatusCode.OK)).Items.Select(t => t.Name![..4])];

        Assert.Equal(["f-tv"], await Names("category=tv"));
        Assert.Equal(["f-fi", "f-tv"], await Names("tag=hd"));
        Assert.Equal(["f-fi"], await Names("category=movies&tag=4k"));
        Assert.Equal(["f-pl"], await Names("category="));
        Assert.Empty(await Names("category=nothing"));
    }

    [Fact]
    public async Task AddTorrent_InvalidTag_RefusedAndNothingAdded()
    {
        var user = await factory.UserAsync();
        var hash = new string('8', 40);

        await IsProblemAsync(await user.PostAsJsonAsync("/api/torrents",
            new { magnetURI = "magnet:?xt=urn:btih:" + hash, tags = new[] { "bad\u0001tag" } }, Ct), HttpStatusCode.BadRequest, "Invalid tag");

        await IsProblemAsync(await user.GetAsync($"/api/torrents/{hash}", Ct), HttpStatusCode.NotFound);
    }
}
