using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.Model;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Tests.Infrastructure;

/// <summary>The behaviour every <see cref="ICatalogStore"/> must have; run against each implementation.</summary>
public abstract partial class CatalogStoreContractTests
{
    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A new, empty, initialised store.</summary>
    protected abstract Task<ICatalogStore> CreateStoreAsync();

    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    private static User NewUser(string name) => new()
    {
        Id = Guid.NewGuid().ToString("N"),
        UserName = name,
        NormalizedUserName = User.Normalize(name),
        PasswordHash = "hash",
        CreatedAt = Now,
    };

    private static CatalogTorrent NewTorrent(string hash, string owner, string name = "name", bool paused = false) => new()
    {
        InfoHash = hash,
        Name = name,
        TotalBytes = 100,
        Metainfo = [1, 2, 3],
        Paused = paused,
        Files = [new TorrentFileEntry("a.bin", 100)],
        FilePriorities = [FilePriority.Normal],
        Trackers = ["http://t.example/announce"],
        Owners = [new TorrentOwner(owner, Now)],
        AddedAt = Now,
        Revision = 1,
    };

    private static string Hash(int i) => i.ToString("x40");

    [Fact]
    public async Task CreateUser_FirstIsAdmin_DuplicateNameRefused()
    {
        var store = await CreateStoreAsync();
        var first = await store.CreateUserAsync(NewUser("alice"), Ct);
        var second = await store.CreateUserAsync(NewUser("bob"), Ct);
        Assert.Equal(Roles.Admin, first!.Role);
        Assert.Equal(Roles.User, second!.Role);
        Assert.Null(await store.CreateUserAsync(NewUser("ALICE"), Ct));
        Assert.Equal(2, (await store.ListUsersAsync(Ct)).Count);
    }

    [Fact]
    public async Task FindAndUpdateUser_RoundTrips()
    {
        var store = await CreateStoreAsync();
        var user = (await store.CreateUserAsync(NewUser("carol"), Ct))!;
        await store.RecordFailedLoginAsync(user.Id, 10, Now.AddMinutes(5), Ct);
        await store.SetUserRoleAsync(user.Id, Roles.Admin, Ct);
        var disabled = await store.SetUserDisabledAsync(user.Id, true, Ct);
        Assert.True(disabled!.Disabled);
        var found = await store.FindUserByNameAsync("CAROL", Ct);
        Assert.NotNull(found);
        Assert.True(found.Disabled);
        Assert.Equal(1, found.FailedLogins);
        Assert.Equal(Roles.Admin, found.Role);
        Assert.Equal(user.Id, (await store.FindUserByIdAsync(user.Id, Ct))!.Id);
        Assert.Null(await store.FindUserByIdAsync("nope", Ct));
        Assert.Null(await store.SetUserRoleAsync("nope", Roles.User, Ct));
        Assert.Null(await store.RecordFailedLoginAsync("nope", 5, Now, Ct));
    }

    [Fact]
    public async Task RecordFailedLogin_TwentyInParallel_EveryOneCounted()
    {
        var store = await CreateStoreAsync();
        var user = (await store.CreateUserAsync(NewUser("dora"), Ct))!;

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => store.RecordFailedLoginAsync(user.Id, 100, Now.AddMinutes(5), Ct), Ct)));

        var found = (await store.FindUserByIdAsync(user.Id, Ct))!;
        Assert.Equal(20, found.FailedLogins);
        Assert.Null(found.LockoutEnd);
    }

    [Fact]
    public async Task RecordFailedLogin_ReachingTheLimitInParallel_Locks()
    {
        var store = await CreateStoreAsync();
        var user = (await store.CreateUserAsync(NewUser("egon"), Ct))!;

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => store.RecordFailedLoginAsync(user.Id, 5, Now.AddMinutes(15), Ct), Ct)));

        Assert.Contains(results, r => r!.LockoutEnd == Now.AddMinutes(15));
        var found = (await store.FindUserByIdAsync(user.Id, Ct))!;
        Assert.Equal(Now.AddMinutes(15), found.LockoutEnd);
        Assert.InRange(found.FailedLogins, 0, 4);
    }

    [Fact]
    public async Task RecordSuccessfulLogin_ClearsLockoutKeepsRoleAndRefusesDisabled()
    {
        var store = await CreateStoreAsync();
        var user = (await store.CreateUserAsync(NewUser("fritz"), Ct))!;
        await store.RecordFailedLoginAsync(user.Id, 1, Now.AddMinutes(15), Ct);
        await store.RecordFailedLoginAsync(user.Id, 5, Now.AddMinutes(15), Ct);
        // The admin's change, made after the log-in read the account: the write-back must not undo it.
        await store.SetUserRoleAsync(user.Id, Roles.User, Ct);

        var current = await store.RecordSuccessfulLoginAsync(user.Id, "rehashed", Ct);

        Assert.NotNull(current);
        Assert.Equal((0, (DateTimeOffset?)null, "rehashed", Roles.User), (current.FailedLogins, current.LockoutEnd, current.PasswordHash, current.Role));
        await store.SetUserDisabledAsync(user.Id, true, Ct);
        Assert.Null(await store.RecordSuccessfulLoginAsync(user.Id, null, Ct));
        var found = (await store.FindUserByIdAsync(user.Id, Ct))!;
        Assert.True(found.Disabled);
        Assert.Equal("rehashed", found.PasswordHash);
    }

    [Fact]
    public async Task SetUserDisabled_Enable_ClearsLockoutAndFailures()
    {
        var store = await CreateStoreAsync();
        var user = (await store.CreateUserAsync(NewUser("gina"), Ct))!;
        await store.RecordFailedLoginAsync(user.Id, 1, Now.AddMinutes(15), Ct);
        await store.RecordFailedLoginAsync(user.Id, 5, Now.AddMinutes(15), Ct);
        await store.SetUserDisabledAsync(user.Id, true, Ct);

        var enabled = await store.SetUserDisabledAsync(user.Id, false, Ct);

        Assert.Equal((false, 0, (DateTimeOffset?)null), (enabled!.Disabled, enabled.FailedLogins, enabled.LockoutEnd));
    }

    [Theory]
    [InlineData("{\"$gt\":\"\"}")]
    [InlineData("x' OR '1'='1")]
    [InlineData("$where")]
    public async Task HostileStrings_AreData(string hostile)
    {
        var store = await CreateStoreAsync();
        await store.CreateUserAsync(NewUser("victim"), Ct);
        Assert.Null(await store.FindUserByNameAsync(hostile, Ct));
        Assert.Null(await store.FindUserByIdAsync(hostile, Ct));
        Assert.Null(await store.FindTorrentAsync(hostile, Ct));
        Assert.Null(await store.FindRefreshTokenAsync(hostile, Ct));
        Assert.Null(await store.FindApiTokenAsync(hostile, Ct));
        var user = (await store.CreateUserAsync(NewUser(hostile), Ct))!;
        Assert.Equal(hostile, (await store.FindUserByNameAsync(User.Normalize(hostile), Ct))!.UserName);
        await store.TryInsertTorrentAsync(NewTorrent(Hash(1), user.Id, name: hostile), Ct);
        var page = await store.ListTorrentsAsync(new TorrentQuery(hostile, null, TorrentSort.Name, false, 0, 10), Ct);
        Assert.Empty(page.Items);
        Assert.Equal(hostile, (await store.FindTorrentAsync(Hash(1), Ct))!.Name);
    }

    [Fact]
    public async Task RefreshTokens_RevokeOnceAndByFamily()
    {
        var store = await CreateStoreAsync();
        RefreshToken Token(string family) => new()
        {
            Id = Guid.NewGuid().ToString("N"), TokenHash = Guid.NewGuid().ToString("N"), UserId = "u1", FamilyId = family,
            CreatedAt = Now, ExpiresAt = Now.AddDays(1),
        };
        var a = Token("f1");
        var b = Token("f1");
        var c = Token("f2");
        foreach (var t in new[] { a, b, c })
        {
            await store.AddRefreshTokenAsync(t, Ct);
        }
        var found = await store.FindRefreshTokenAsync(a.TokenHash, Ct);
        Assert.Equal(a.Id, found!.Id);
        Assert.Equal(Now.AddDays(1), found.ExpiresAt);
        Assert.Null(found.RevokedAt);

        Assert.True(await store.TryRevokeRefreshTokenAsync(a.Id, Now, Ct));
        Assert.False(await store.TryRevokeRefreshTokenAsync(a.Id, Now, Ct));
        Assert.Equal(Now, (await store.FindRefreshTokenAsync(a.TokenHash, Ct))!.RevokedAt);

        await store.RevokeRefreshTokensAsync("u1", "f1", Now, Ct);
        Assert.NotNull((await store.FindRefreshTokenAsync(b.TokenHash, Ct))!.RevokedAt);
        Assert.Null((await store.FindRefreshTokenAsync(c.TokenHash, Ct))!.RevokedAt);
        await store.RevokeRefreshTokensAsync("u1", null, Now, Ct);
        Assert.NotNull((await store.FindRefreshTokenAsync(c.TokenHash, Ct))!.RevokedAt);
    }

    [Fact]
    public async Task ApiTokens_ListFindRevokeOnlyOwn()
    {
        var store = await CreateStoreAsync();
        var token = new ApiToken { Id = "t1", UserId = "u1", Name = "script", TokenHash = "h1", CreatedAt = Now, ExpiresAt = Now.AddDays(3) };
        await store.AddApiTokenAsync(token, Ct);
        Assert.Equal("script", Assert.Single(await store.ListApiTokensAsync("u1", Ct)).Name);
        Assert.Empty(await store.ListApiTokensAsync("u2", Ct));
        Assert.Equal(Now.AddDays(3), (await store.FindApiTokenAsync("h1", Ct))!.ExpiresAt);
        Assert.False(await store.RevokeApiTokenAsync("u2", "t1", Now, Ct));
        Assert.True(await store.RevokeApiTokenAsync("u1", "t1", Now, Ct));
        Assert.False(await store.RevokeApiTokenAsync("u1", "t1", Now, Ct));
        Assert.Equal(Now, (await store.FindApiTokenAsync("h1", Ct))!.RevokedAt);
    }

    [Fact]
    public async Task Torrents_InsertOnceFindWithOwnersAndSpec()
    {
        var store = await CreateStoreAsync();
        var torrent = NewTorrent(Hash(1), "u1");
        torrent.SavePath = "sub/dir";
        torrent.Priority = TorrentPriority.High;
        Assert.True(await store.TryInsertTorrentAsync(torrent, Ct));
        Assert.False(await store.TryInsertTorrentAsync(NewTorrent(Hash(1), "u2"), Ct));
        var found = (await store.FindTorrentAsync(Hash(1), Ct))!;
        Assert.Equal("name", found.Name);
        Assert.Equal([1, 2, 3], found.Metainfo);
        Assert.Equal("sub/dir", found.SavePath);
        Assert.Equal(TorrentPriority.High, found.Priority);
        Assert.Equal("a.bin", Assert.Single(found.Files).Path);
        Assert.Equal("u1", Assert.Single(found.Owners).UserId);
        Assert.Equal(Now, found.AddedAt);
        Assert.Equal(1, found.Revision);
    }

    [Fact]
    public async Task Torrents_ReplaceIsOptimistic()
    {
        var store = await CreateStoreAsync();
        await store.TryInsertTorrentAsync(NewTorrent(Hash(1), "u1"), Ct);
        var copy1 = (await store.FindTorrentAsync(Hash(1), Ct))!;
        var copy2 = (await store.FindTorrentAsync(Hash(1), Ct))!;
        copy1.Owners.Add(new TorrentOwner("u2", Now));
        copy1.Paused = true;
        copy1.Revision = 2;
        Assert.True(await store.TryReplaceTorrentAsync(copy1, 1, Ct));
        copy2.Revision = 2;
        Assert.False(await store.TryReplaceTorrentAsync(copy2, 1, Ct));
        var found = (await store.FindTorrentAsync(Hash(1), Ct))!;
        Assert.True(found.Paused);
        Assert.Equal(2, found.Revision);
        Assert.Equal(["u1", "u2"], found.Owners.Select(o => o.UserId).Order());
    }

    [Fact]
    public async Task Torrents_OwnersWishes_RoundTripPerOwner()
    {
        var store = await CreateStoreAsync();
        var torrent = NewTorrent(Hash(1), "u1");
        torrent.Owners[0].Wishes = new OwnerWishes
        {
            Name = "mine", SavePath = "a/b", Paused = true, Priority = TorrentPriority.High, FilePriorities = [FilePriority.Skip],
            Trackers = ["https://p.example/KEY/announce"], MagnetUri = "magnet:?xt=urn:btih:" + Hash(1), MetainfoSource = true,
        };
        torrent.Owners.Add(new TorrentOwner("u2", Now) { Wishes = new OwnerWishes { Priority = TorrentPriority.Low, Trackers = ["http://u2.example/a"] } });
        await store.TryInsertTorrentAsync(torrent, Ct);

        var found = (await store.FindTorrentAsync(Hash(1), Ct))!;
        var u1 = found.FindOwner("u1")!.Wishes;
        Assert.Equal(("mine", "a/b", true, TorrentPriority.High, true), (u1.Name, u1.SavePath, u1.Paused, u1.Priority, u1.MetainfoSource));
        Assert.Equal([FilePriority.Skip], u1.FilePriorities);
        Assert.Equal(["https://p.example/KEY/announce"], u1.Trackers);
        Assert.Equal("magnet:?xt=urn:btih:" + Hash(1), u1.MagnetUri);
        var u2 = found.FindOwner("u2")!.Wishes;
        Assert.Equal((TorrentPriority.Low, false), (u2.Priority, u2.Paused));
        Assert.Equal(["http://u2.example/a"], u2.Trackers);
    }

    [Fact]
    public async Task Status_UpdatedApartFromDesiredState()
    {
        var store = await CreateStoreAsync();
        await store.TryInsertTorrentAsync(NewTorrent(Hash(1), "u1"), Ct);
        var status = new TorrentStatus
        {
            State = TorrentState.Downloading, Progress = 0.5, DownloadRate = 1000, UploadRate = 10, PeersConnected = 3,
            FileVerifiedBytes = [50], Trackers = [new TrackerStatus("http://t.example/announce", "working", 5, 6, null)], UpdatedAt = Now,
        };
        Assert.True(await store.UpdateStatusAsync(Hash(1), status, Ct));
        Assert.False(await store.UpdateStatusAsync(Hash(2), status, Ct));
        var found = (await store.FindTorrentAsync(Hash(1), Ct))!;
        Assert.Equal(TorrentState.Downloading, found.Status.State);
        Assert.Equal(0.5, found.Status.Progress);
        Assert.Equal(5, Assert.Single(found.Status.Trackers).Seeders);
        Assert.Equal(1, found.Revision);

        // A later change of desired state keeps the status.
        found.Paused = true;
        found.Revision = 2;
        Assert.True(await store.TryReplaceTorrentAsync(found, 1, Ct));
        Assert.Equal(TorrentState.Downloading, (await store.FindTorrentAsync(Hash(1), Ct))!.Status.State);
    }

    [Fact]
    public async Task ListTorrents_FiltersSortsPages()
    {
        var store = await CreateStoreAsync();
        await store.TryInsertTorrentAsync(NewTorrent(Hash(1), "u1", "charlie"), Ct);
        await store.TryInsertTorrentAsync(NewTorrent(Hash(2), "u1", "Alpha", paused: true), Ct);
        await store.TryInsertTorrentAsync(NewTorrent(Hash(3), "u1", "bravo"), Ct);
        await store.TryInsertTorrentAsync(NewTorrent(Hash(4), "u2", "delta"), Ct);
        await store.UpdateStatusAsync(Hash(3), new TorrentStatus { State = TorrentState.Seeding, Progress = 1, UploadRate = 500, UpdatedAt = Now }, Ct);
        await store.UpdateStatusAsync(Hash(1), new TorrentStatus { State = TorrentState.Downloading, Progress = 0.2, DownloadRate = 100, UpdatedAt = Now }, Ct);
        var removed = NewTorrent(Hash(5), "u1", "echo");
        removed.Removed = true;
        await store.TryInsertTorrentAsync(removed, Ct);

        var byName = await store.ListTorrentsAsync(new TorrentQuery("u1", null, TorrentSort.Name, false, 0, 10), Ct);
        Assert.Equal(["Alpha", "bravo", "charlie"], byName.Items.Select(t => t.Name));
        Assert.Equal(3, byName.Total);

        var page = await store.ListTorrentsAsync(new TorrentQuery("u1", null, TorrentSort.Name, true, 1, 1), Ct);
        Assert.Equal("bravo", Assert.Single(page.Items).Name);
        Assert.Equal(3, page.Total);

        var byProgress = await store.ListTorrentsAsync(new TorrentQuery("u1", null, TorrentSort.Progress, true, 0, 10), Ct);
        Assert.Equal(["bravo", "charlie", "Alpha"], byProgress.Items.Select(t => t.Name));
        var byRate = await store.ListTorrentsAsync(new TorrentQuery("u1", null, TorrentSort.Rate, true, 0, 10), Ct);
        Assert.Equal(["bravo", "charlie", "Alpha"], byRate.Items.Select(t => t.Name));

        Assert.Equal("Alpha", Assert.Single((await store.ListTorrentsAsync(new TorrentQuery("u1", TorrentState.Paused, TorrentSort.Added, false, 0, 10), Ct)).Items).Name);
        Assert.Equal("bravo", Assert.Single((await store.ListTorrentsAsync(new TorrentQuery("u1", TorrentState.Seeding, TorrentSort.Added, false, 0, 10), Ct)).Items).Name);

        var all = await store.ListTorrentsAsync(new TorrentQuery(null, null, TorrentSort.Added, false, 0, 10), Ct);
        Assert.Equal(4, all.Total);
    }

    [Fact]
    public async Task Outbox_ListsUnpublishedUntilMarked()
    {
        var store = await CreateStoreAsync();
        await store.TryInsertTorrentAsync(NewTorrent(Hash(1), "u1"), Ct);
        await store.TryInsertTorrentAsync(NewTorrent(Hash(2), "u1"), Ct);
        Assert.Equal(2, (await store.ListUnpublishedAsync(10, Ct)).Count);
        Assert.Single(await store.ListUnpublishedAsync(1, Ct));

        await store.MarkPublishedAsync(Hash(1), 1, Ct);
        Assert.Equal(Hash(2), Assert.Single(await store.ListUnpublishedAsync(10, Ct)).InfoHash);

        var t = (await store.FindTorrentAsync(Hash(1), Ct))!;
        t.Revision = 2;
        await store.TryReplaceTorrentAsync(t, 1, Ct);
        Assert.Equal(2, (await store.ListUnpublishedAsync(10, Ct)).Count);

        await store.MarkPublishedAsync(Hash(1), 2, Ct);
        await store.MarkPublishedAsync(Hash(1), 1, Ct); // a late acknowledgement of an older revision does not move it back
        Assert.Equal(2, (await store.FindTorrentAsync(Hash(1), Ct))!.PublishedRevision);
        Assert.Equal(Hash(2), Assert.Single(await store.ListUnpublishedAsync(10, Ct)).InfoHash);
    }

    [Fact]
    public async Task MarkAllUnpublished_PublishedAndRemovedTorrents_AllListedAgainUntilMarked()
    {
        var store = await CreateStoreAsync();
        await store.TryInsertTorrentAsync(NewTorrent(Hash(1), "u1"), Ct);
        await store.TryInsertTorrentAsync(NewTorrent(Hash(2), "u2"), Ct);
        var removed = NewTorrent(Hash(3), "u1");
        removed.Removed = true;
        removed.DeleteData = true;
        removed.Revision = 4;
        await store.TryInsertTorrentAsync(removed, Ct);
        await store.MarkPublishedAsync(Hash(1), 1, Ct);
        await store.MarkPublishedAsync(Hash(2), 1, Ct);
        await store.MarkPublishedAsync(Hash(3), 4, Ct);
        Assert.Empty(await store.ListUnpublishedAsync(10, Ct));

        Assert.Equal(3, await store.MarkAllUnpublishedAsync(Ct));

        var again = await store.ListUnpublishedAsync(10, Ct);
        Assert.Equal([Hash(1), Hash(2), Hash(3)], again.Select(t => t.InfoHash).Order(StringComparer.Ordinal));
        // The desired state itself is untouched: the same revision goes out again.
        Assert.Equal(4, again.Single(t => t.InfoHash == Hash(3)).Revision);
        Assert.True(again.Single(t => t.InfoHash == Hash(3)).Removed);
        await store.MarkPublishedAsync(Hash(1), 1, Ct);
        await store.MarkPublishedAsync(Hash(2), 1, Ct);
        await store.MarkPublishedAsync(Hash(3), 4, Ct);
        Assert.Empty(await store.ListUnpublishedAsync(10, Ct));
    }
}

public sealed class SqliteCatalogStoreTests : CatalogStoreContractTests, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "catalog-store-" + Guid.NewGuid().ToString("N"));

    protected override async Task<ICatalogStore> CreateStoreAsync()
    {
        var store = new SqliteCatalogStore($"Data Source={Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".db")}");
        await store.InitializeAsync(Ct);
        return store;
    }

    [Fact]
    public async Task Initialize_UsesWriteAheadLog()
    {
        var path = Path.Combine(_directory, "wal.db");
        await new SqliteCatalogStore($"Data Source={path}").InitializeAsync(Ct);
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path}");
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync(Ct));
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
