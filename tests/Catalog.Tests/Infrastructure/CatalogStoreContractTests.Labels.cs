using TorrentEdge.Catalog.Model;

namespace TorrentEdge.Catalog.Tests.Infrastructure;

// The per-user labels part of the store contract (ITorrentLabelStore), on every implementation.
public abstract partial class CatalogStoreContractTests
{
    [Fact]
    public async Task TorrentLabels_SavedPerUser_RoundTripAndStayApart()
    {
        var store = await CreateStoreAsync();
        var hash = Hash(41);
        await store.SaveTorrentLabelsAsync(new TorrentLabels
        {
            UserId = "u1", InfoHash = hash, Category = "tv", Tags = ["a", "b"], RatioLimit = 1.5, SeedingTimeLimit = 60,
            InactiveSeedingTimeLimit = -1, SequentialDownload = true, FirstLastPiecePriority = true, ForceStart = true,
        }, Ct);
        await store.SaveTorrentLabelsAsync(new TorrentLabels { UserId = "u2", InfoHash = hash, Category = "movies" }, Ct);

        var mine = await store.FindTorrentLabelsAsync("u1", hash, Ct);
        Assert.NotNull(mine);
        Assert.Equal("tv", mine.Category);
        Assert.Equal(["a", "b"], mine.Tags);
        Assert.Equal(1.5, mine.RatioLimit);
        Assert.Equal(60, mine.SeedingTimeLimit);
        Assert.Equal(-1, mine.InactiveSeedingTimeLimit);
        Assert.True(mine.SequentialDownload && mine.FirstLastPiecePriority && mine.ForceStart);
        Assert.Equal("movies", (await store.FindTorrentLabelsAsync("u2", hash, Ct))!.Category);
        Assert.Null(await store.FindTorrentLabelsAsync("u3", hash, Ct));
        Assert.Equal([hash], (await store.ListTorrentLabelsAsync("u1", Ct)).Select(l => l.InfoHash));
    }

    [Fact]
    public async Task TorrentLabels_SavedAgainOrEmptied_ReplacedThenDeleted()
    {
        var store = await CreateStoreAsync();
        var hash = Hash(42);
        await store.SaveTorrentLabelsAsync(new TorrentLabels { UserId = "u1", InfoHash = hash, Category = "tv" }, Ct);
        await store.SaveTorrentLabelsAsync(new TorrentLabels { UserId = "u1", InfoHash = hash, Tags = ["x"] }, Ct);
        var replaced = await store.FindTorrentLabelsAsync("u1", hash, Ct);
        Assert.Equal("", replaced!.Category);
        Assert.Equal(["x"], replaced.Tags);

        // Nothing left to keep: no row or document stays behind.
        await store.SaveTorrentLabelsAsync(new TorrentLabels { UserId = "u1", InfoHash = hash }, Ct);
        Assert.Null(await store.FindTorrentLabelsAsync("u1", hash, Ct));
        Assert.Empty(await store.ListTorrentLabelsAsync("u1", Ct));

        await store.SaveTorrentLabelsAsync(new TorrentLabels { UserId = "u1", InfoHash = hash, Category = "tv" }, Ct);
        await store.DeleteTorrentLabelsAsync("u1", hash, Ct);
        Assert.Null(await store.FindTorrentLabelsAsync("u1", hash, Ct));
    }

    [Fact]
    public async Task UserLabels_AddTwiceSaveDelete_KeyedByUserKindAndName()
    {
        var store = await CreateStoreAsync();
        Assert.True(await store.TryAddUserLabelAsync(new UserLabel("u1", UserLabelKinds.Category, "tv", "tv"), Ct));
        Assert.False(await store.TryAddUserLabelAsync(new UserLabel("u1", UserLabelKinds.Category, "tv", "other"), Ct));
        // The same name under another kind or another user is another label.
        Assert.True(await store.TryAddUserLabelAsync(new UserLabel("u1", UserLabelKinds.Tag, "tv"), Ct));
        Assert.True(await store.TryAddUserLabelAsync(new UserLabel("u2", UserLabelKinds.Category, "tv"), Ct));
        await store.SaveUserLabelAsync(new UserLabel("u1", UserLabelKinds.Preference, "queueing_enabled", "false"), Ct);
        await store.SaveUserLabelAsync(new UserLabel("u1", UserLabelKinds.Preference, "queueing_enabled", "true"), Ct);

        var categories = await store.ListUserLabelsAsync("u1", UserLabelKinds.Category, Ct);
        Assert.Equal("tv", Assert.Single(categories).Value);
        Assert.Equal("true", Assert.Single(await store.ListUserLabelsAsync("u1", UserLabelKinds.Preference, Ct)).Value);
        Assert.Equal(3, (await store.ListUserLabelsAsync("u1", null, Ct)).Count);

        Assert.True(await store.DeleteUserLabelAsync("u1", UserLabelKinds.Category, "tv", Ct));
        Assert.False(await store.DeleteUserLabelAsync("u1", UserLabelKinds.Category, "tv", Ct));
        Assert.Empty(await store.ListUserLabelsAsync("u1", UserLabelKinds.Category, Ct));
        Assert.Single(await store.ListUserLabelsAsync("u2", UserLabelKinds.Category, Ct));
    }
}
