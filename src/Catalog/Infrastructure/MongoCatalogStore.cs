using System.Text.Json;
using MongoDB.Bson;
using MongoDB.Bson.Serialization.Attributes;
using MongoDB.Driver;
using TorrentEdge.Catalog.Model;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Infrastructure;

/// <summary>The production store on MongoDB: one document per user, token and torrent; indexes created at start.</summary>
/// <remarks>
/// Every query is built with typed filters, so user input only ever becomes a value, never an operator.
/// A torrent's desired state and its "still to publish" mark are one document, so the outbox needs no transaction.
/// </remarks>
public sealed partial class MongoCatalogStore : ICatalogStore
{
    private readonly IMongoCollection<UserDocument> _users;
    private readonly IMongoCollection<RefreshTokenDocument> _refreshTokens;
    private readonly IMongoCollection<ApiTokenDocument> _apiTokens;
    private readonly IMongoCollection<TorrentDocument> _torrents;

    private static readonly Collation CaseInsensitive = new("en", strength: CollationStrength.Secondary);

    public MongoCatalogStore(string connectionString, string? databaseName = null)
    {
        var url = MongoUrl.Create(connectionString);
        var database = new MongoClient(url).GetDatabase(databaseName ?? url.DatabaseName ?? "catalog");
        _users = database.GetCollection<UserDocument>("users");
        _refreshTokens = database.GetCollection<RefreshTokenDocument>("refreshTokens");
        _apiTokens = database.GetCollection<ApiTokenDocument>("apiTokens");
        _torrents = database.GetCollection<TorrentDocument>("torrents");
        _torrentLabels = database.GetCollection<TorrentLabelsDocument>("torrentLabels");
        _userLabels = database.GetCollection<UserLabelDocument>("userLabels");
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _users.Indexes.CreateManyAsync(
        [
            new CreateIndexModel<UserDocument>(Builders<UserDocument>.IndexKeys.Ascending(u => u.NormalizedUserName), new CreateIndexOptions { Unique = true }),
        ], cancellationToken).ConfigureAwait(false);
        await _refreshTokens.Indexes.CreateManyAsync(
        [
            new CreateIndexModel<RefreshTokenDocument>(Builders<RefreshTokenDocument>.IndexKeys.Ascending(t => t.TokenHash), new CreateIndexOptions { Unique = true }),
            new CreateIndexModel<RefreshTokenDocument>(Builders<RefreshTokenDocument>.IndexKeys.Ascending(t => t.UserId)),
        ], cancellationToken).ConfigureAwait(false);
        await _apiTokens.Indexes.CreateManyAsync(
        [
            new CreateIndexModel<ApiTokenDocument>(Builders<ApiTokenDocument>.IndexKeys.Ascending(t => t.TokenHash), new CreateIndexOptions { Unique = true }),
            new CreateIndexModel<ApiTokenDocument>(Builders<ApiTokenDocument>.IndexKeys.Ascending(t => t.UserId)),
        ], cancellationToken).ConfigureAwait(false);
        // The info-hash is the _id, unique by nature.
        await _torrents.Indexes.CreateManyAsync(
        [
            new CreateIndexModel<TorrentDocument>(Builders<TorrentDocument>.IndexKeys.Ascending(t => t.OwnerIds).Ascending(t => t.AddedAt)),
            new CreateIndexModel<TorrentDocument>(Builders<TorrentDocument>.IndexKeys.Ascending(t => t.Pending).Ascending(t => t.ChangedAt)),
        ], cancellationToken).ConfigureAwait(false);
        await InitializeLabelsAsync(cancellationToken).ConfigureAwait(false);
    }

    // ---- users ----

    public async Task<User?> CreateUserAsync(User user, CancellationToken cancellationToken)
    {
        // Not atomic with the insert: two simultaneous first registrations could both become admin; an admin can demote.
        user.Role = await _users.EstimatedDocumentCountAsync(cancellationToken: cancellationToken).ConfigureAwait(false) == 0
            && await _users.CountDocumentsAsync(FilterDefinition<UserDocument>.Empty, cancellationToken: cancellationToken).ConfigureAwait(false) == 0
            ? Roles.Admin
            : Roles.User;
        try
        {
            await _users.InsertOneAsync(UserDocument.From(user), cancellationToken: cancellationToken).ConfigureAwait(false);
            return user;
        }
        catch (MongoWriteException e) when (e.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            return null;
        }
    }

    public async Task<User?> FindUserByIdAsync(string id, CancellationToken cancellationToken) =>
        (await _users.Find(u => u.Id == id).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false))?.ToModel();

    public async Task<User?> FindUserByNameAsync(string normalizedUserName, CancellationToken cancellationToken) =>
        (await _users.Find(u => u.NormalizedUserName == normalizedUserName).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false))?.ToModel();

    public async Task<IReadOnlyList<User>> ListUsersAsync(CancellationToken cancellationToken) =>
        (await _users.Find(FilterDefinition<UserDocument>.Empty).SortBy(u => u.CreatedAt).ThenBy(u => u.Id)
            .ToListAsync(cancellationToken).ConfigureAwait(false)).Select(u => u.ToModel()).ToList();

    // Each change is an update of named fields ($inc, $set) on one document, atomic on the server, so it composes with
    // any concurrent change of other fields; never a replace of the whole document from a copy read earlier.

    private static readonly FindOneAndUpdateOptions<UserDocument> ReturnAfter = new() { ReturnDocument = ReturnDocument.After };

    public async Task<User?> RecordFailedLoginAsync(string userId, int maxFailedLogins, DateTimeOffset lockoutEnd, CancellationToken cancellationToken)
    {
        var update = Builders<UserDocument>.Update;
        var counted = await _users.FindOneAndUpdateAsync<UserDocument>(u => u.Id == userId, update.Inc(u => u.FailedLogins, 1), ReturnAfter, cancellationToken)
            .ConfigureAwait(false);
        if (counted is null || counted.FailedLogins < maxFailedLogins)
        {
            return counted?.ToModel();
        }
        // Only one of several racing failures finds the count still at or over the limit; subtracting (not zeroing)
        // keeps failures counted in between.
        var locked = await _users.FindOneAndUpdateAsync<UserDocument>(u => u.Id == userId && u.FailedLogins >= maxFailedLogins,
            update.Set(u => u.LockoutEnd, Ms.To(lockoutEnd)).Inc(u => u.FailedLogins, -maxFailedLogins), ReturnAfter, cancellationToken)
            .ConfigureAwait(false);
        return (locked ?? counted).ToModel();
    }

    public async Task<User?> RecordSuccessfulLoginAsync(string userId, string? newPasswordHash, CancellationToken cancellationToken)
    {
        var update = Builders<UserDocument>.Update.Set(u => u.FailedLogins, 0).Set(u => u.LockoutEnd, null);
        if (newPasswordHash is not null)
        {
            update = update.Set(u => u.PasswordHash, newPasswordHash);
        }
        return (await _users.FindOneAndUpdateAsync<UserDocument>(u => u.Id == userId && !u.Disabled, update, ReturnAfter, cancellationToken)
            .ConfigureAwait(false))?.ToModel();
    }

    public async Task<User?> SetUserRoleAsync(string userId, string role, CancellationToken cancellationToken) =>
        (await _users.FindOneAndUpdateAsync<UserDocument>(u => u.Id == userId, Builders<UserDocument>.Update.Set(u => u.Role, role), ReturnAfter, cancellationToken)
            .ConfigureAwait(false))?.ToModel();

    public async Task<User?> SetUserDisabledAsync(string userId, bool disabled, CancellationToken cancellationToken)
    {
        var update = Builders<UserDocument>.Update.Set(u => u.Disabled, disabled);
        if (!disabled)
        {
            update = update.Set(u => u.FailedLogins, 0).Set(u => u.LockoutEnd, null);
        }
        return (await _users.FindOneAndUpdateAsync<UserDocument>(u => u.Id == userId, update, ReturnAfter, cancellationToken).ConfigureAwait(false))?.ToModel();
    }

    public async Task<User?> SetUserQuotaAsync(string userId, long? maxTorrents, long? maxBytes, CancellationToken cancellationToken) =>
        (await _users.FindOneAndUpdateAsync<UserDocument>(u => u.Id == userId,
            Builders<UserDocument>.Update.Set(u => u.MaxTorrents, maxTorrents).Set(u => u.MaxBytes, maxBytes), ReturnAfter, cancellationToken)
            .ConfigureAwait(false))?.ToModel();

    public async Task<(long Torrents, long Bytes)> GetOwnerUsageAsync(string userId, CancellationToken cancellationToken)
    {
        var filter = Builders<TorrentDocument>.Filter.AnyEq(t => t.OwnerIds, userId) & Builders<TorrentDocument>.Filter.Eq(t => t.Removed, false);
        var sizes = await _torrents.Find(filter).Project(t => t.TotalBytes).ToListAsync(cancellationToken).ConfigureAwait(false);
        return (sizes.Count, sizes.Sum());
    }

    // ---- refresh tokens ----

    public Task AddRefreshTokenAsync(RefreshToken token, CancellationToken cancellationToken) =>
        _refreshTokens.InsertOneAsync(RefreshTokenDocument.From(token), cancellationToken: cancellationToken);

    public async Task<RefreshToken?> FindRefreshTokenAsync(string tokenHash, CancellationToken cancellationToken) =>
        (await _refreshTokens.Find(t => t.TokenHash == tokenHash).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false))?.ToModel();

    public async Task<bool> TryRevokeRefreshTokenAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var result = await _refreshTokens.UpdateOneAsync(t => t.Id == id && t.RevokedAt == null,
            Builders<RefreshTokenDocument>.Update.Set(t => t.RevokedAt, now.ToUnixTimeMilliseconds()), cancellationToken: cancellationToken).ConfigureAwait(false);
        return result.ModifiedCount == 1;
    }

    public Task RevokeRefreshTokensAsync(string userId, string? familyId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var filter = Builders<RefreshTokenDocument>.Filter;
        var where = filter.Eq(t => t.UserId, userId) & filter.Eq(t => t.RevokedAt, null);
        if (familyId is not null)
        {
            where &= filter.Eq(t => t.FamilyId, familyId);
        }
        return _refreshTokens.UpdateManyAsync(where, Builders<RefreshTokenDocument>.Update.Set(t => t.RevokedAt, now.ToUnixTimeMilliseconds()),
            cancellationToken: cancellationToken);
    }

    // ---- API tokens ----

    public Task AddApiTokenAsync(ApiToken token, CancellationToken cancellationToken) =>
        _apiTokens.InsertOneAsync(ApiTokenDocument.From(token), cancellationToken: cancellationToken);

    public async Task<IReadOnlyList<ApiToken>> ListApiTokensAsync(string userId, CancellationToken cancellationToken) =>
        (await _apiTokens.Find(t => t.UserId == userId).SortBy(t => t.CreatedAt).ThenBy(t => t.Id)
            .ToListAsync(cancellationToken).ConfigureAwait(false)).Select(t => t.ToModel()).ToList();

    public async Task<ApiToken?> FindApiTokenAsync(string tokenHash, CancellationToken cancellationToken) =>
        (await _apiTokens.Find(t => t.TokenHash == tokenHash).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false))?.ToModel();

    public async Task<bool> RevokeApiTokenAsync(string userId, string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var result = await _apiTokens.UpdateOneAsync(t => t.Id == id && t.UserId == userId && t.RevokedAt == null,
            Builders<ApiTokenDocument>.Update.Set(t => t.RevokedAt, now.ToUnixTimeMilliseconds()), cancellationToken: cancellationToken).ConfigureAwait(false);
        return result.ModifiedCount == 1;
    }

    // ---- torrents ----

    public async Task<CatalogTorrent?> FindTorrentAsync(string infoHash, CancellationToken cancellationToken) =>
        (await _torrents.Find(t => t.InfoHash == infoHash).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false))?.ToModel();

    public async Task<TorrentPage> ListTorrentsAsync(TorrentQuery query, CancellationToken cancellationToken)
    {
        var filter = Builders<TorrentDocument>.Filter;
        var where = filter.Eq(t => t.Removed, false);
        if (query.OwnerId is not null)
        {
            where &= filter.AnyEq(t => t.OwnerIds, query.OwnerId);
        }
        if (query.State is { } state)
        {
            where &= filter.Eq(t => t.State, state.ToString());
        }
        if (query.InfoHashes is { } hashes)
        {
            where &= filter.In(t => t.InfoHash, hashes);
        }
        var sort = Builders<TorrentDocument>.Sort;
        var key = query.Sort switch
        {
            TorrentSort.Name => "Name",
            TorrentSort.Progress => "Progress",
            TorrentSort.Rate => "Rate",
            _ => "AddedAt",
        };
        var order = sort.Combine(query.Descending ? sort.Descending(key) : sort.Ascending(key), sort.Ascending("_id"));
        var options = new FindOptions { Collation = CaseInsensitive };
        var total = await _torrents.CountDocumentsAsync(where, cancellationToken: cancellationToken).ConfigureAwait(false);
        var items = await _torrents.Find(where, options).Sort(order).Skip(query.Skip).Limit(query.Take)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        return new TorrentPage(items.Select(t => t.ToModel()).ToList(), total);
    }

    public async Task<bool> TryInsertTorrentAsync(CatalogTorrent torrent, CancellationToken cancellationToken)
    {
        var document = TorrentDocument.From(torrent);
        document.StatusJson = JsonSerializer.Serialize(torrent.Status, CatalogJson.Options);
        document.StatusReported = torrent.Status.UpdatedAt is not null;
        document.State = torrent.EffectiveState.ToString();
        document.Progress = torrent.Status.Progress;
        document.Rate = torrent.Status.DownloadRate + torrent.Status.UploadRate;
        try
        {
            await _torrents.InsertOneAsync(document, cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (MongoWriteException e) when (e.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            return false;
        }
    }

    public async Task<bool> TryReplaceTorrentAsync(CatalogTorrent torrent, long expectedRevision, CancellationToken cancellationToken)
    {
        var d = TorrentDocument.From(torrent);
        var update = Builders<TorrentDocument>.Update
            .Set(t => t.Name, d.Name).Set(t => t.TotalBytes, d.TotalBytes).Set(t => t.Metainfo, d.Metainfo)
            .Set(t => t.MagnetUri, d.MagnetUri).Set(t => t.SavePath, d.SavePath).Set(t => t.Paused, d.Paused)
            .Set(t => t.Priority, d.Priority).Set(t => t.FilePriorities, d.FilePriorities).Set(t => t.Files, d.Files)
            .Set(t => t.Trackers, d.Trackers).Set(t => t.Owners, d.Owners).Set(t => t.OwnerIds, d.OwnerIds)
            .Set(t => t.AddedAt, d.AddedAt).Set(t => t.Revision, d.Revision).Set(t => t.RecheckGeneration, d.RecheckGeneration)
            .Set(t => t.Removed, d.Removed).Set(t => t.DeleteData, d.DeleteData).Set(t => t.Pending, true).Set(t => t.ChangedAt, d.ChangedAt);
        var result = await _torrents.UpdateOneAsync(t => t.InfoHash == torrent.InfoHash && t.Revision == expectedRevision, update,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        if (result.ModifiedCount == 0)
        {
            return false;
        }
        // Until a worker reports, the listed state follows the desired state (paused, fetching metadata, queued).
        await _torrents.UpdateOneAsync(t => t.InfoHash == torrent.InfoHash && !t.StatusReported,
            Builders<TorrentDocument>.Update.Set(t => t.State, torrent.EffectiveState.ToString()), cancellationToken: cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<bool> UpdateStatusAsync(string infoHash, TorrentStatus status, CancellationToken cancellationToken)
    {
        var update = Builders<TorrentDocument>.Update
            .Set(t => t.StatusJson, JsonSerializer.Serialize(status, CatalogJson.Options))
            .Set(t => t.StatusReported, true)
            .Set(t => t.Progress, status.Progress)
            .Set(t => t.Rate, status.DownloadRate + status.UploadRate);
        if (status.State is { } state)
        {
            update = update.Set(t => t.State, state.ToString());
        }
        var result = await _torrents.UpdateOneAsync(t => t.InfoHash == infoHash, update, cancellationToken: cancellationToken).ConfigureAwait(false);
        return result.MatchedCount == 1;
    }

    public async Task<IReadOnlyList<CatalogTorrent>> ListUnpublishedAsync(int limit, CancellationToken cancellationToken) =>
        (await _torrents.Find(t => t.Pending).SortBy(t => t.ChangedAt).Limit(limit).ToListAsync(cancellationToken).ConfigureAwait(false))
            .Select(t => t.ToModel()).ToList();

    public async Task MarkPublishedAsync(string infoHash, long revision, CancellationToken cancellationToken)
    {
        await _torrents.UpdateOneAsync(t => t.InfoHash == infoHash && t.PublishedRevision < revision,
            Builders<TorrentDocument>.Update.Set(t => t.PublishedRevision, revision), cancellationToken: cancellationToken).ConfigureAwait(false);
        // Pending ends only if no newer revision was written meanwhile.
        await _torrents.UpdateOneAsync(t => t.InfoHash == infoHash && t.Revision <= revision,
            Builders<TorrentDocument>.Update.Set(t => t.Pending, false), cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public async Task<long> MarkAllUnpublishedAsync(CancellationToken cancellationToken)
    {
        // Revisions start at 1, so 0 is "never acknowledged"; ChangedAt stays, so the oldest change still goes first.
        var result = await _torrents.UpdateManyAsync(FilterDefinition<TorrentDocument>.Empty,
            Builders<TorrentDocument>.Update.Set(t => t.PublishedRevision, 0L).Set(t => t.Pending, true),
            cancellationToken: cancellationToken).ConfigureAwait(false);
        return result.MatchedCount;
    }
}

internal static class Ms
{
    public static long To(DateTimeOffset value) => value.ToUnixTimeMilliseconds();

    public static DateTimeOffset From(long value) => DateTimeOffset.FromUnixTimeMilliseconds(value);
}

internal sealed class UserDocument
{
    [BsonId] public string Id { get; set; } = "";
    public string UserName { get; set; } = "";
    public string NormalizedUserName { get; set; } = "";
    public string PasswordHash { get; set; } = "";
    public string Role { get; set; } = Roles.User;
    public bool Disabled { get; set; }
    public int FailedLogins { get; set; }
    public long? LockoutEnd { get; set; }
    public long CreatedAt { get; set; }
    public long? MaxTorrents { get; set; }
    public long? MaxBytes { get; set; }

    public static UserDocument From(User u) => new()
    {
        Id = u.Id, UserName = u.UserName, NormalizedUserName = u.NormalizedUserName, PasswordHash = u.PasswordHash, Role = u.Role,
        Disabled = u.Disabled, FailedLogins = u.FailedLogins, LockoutEnd = u.LockoutEnd is { } l ? Ms.To(l) : null, CreatedAt = Ms.To(u.CreatedAt),
        MaxTorrents = u.MaxTorrents, MaxBytes = u.MaxBytes,
    };

    public User ToModel() => new()
    {
        Id = Id, UserName = UserName, NormalizedUserName = NormalizedUserName, PasswordHash = PasswordHash, Role = Role,
        Disabled = Disabled, FailedLogins = FailedLogins, LockoutEnd = LockoutEnd is { } l ? Ms.From(l) : null, CreatedAt = Ms.From(CreatedAt),
        MaxTorrents = MaxTorrents, MaxBytes = MaxBytes,
    };
}

internal sealed class RefreshTokenDocument
{
    [BsonId] public string Id { get; set; } = "";
    public string TokenHash { get; set; } = "";
    public string UserId { get; set; } = "";
    public string FamilyId { get; set; } = "";
    public long CreatedAt { get; set; }
    public long ExpiresAt { get; set; }
    public long? RevokedAt { get; set; }

    public static RefreshTokenDocument From(RefreshToken t) => new()
    {
        Id = t.Id, TokenHash = t.TokenHash, UserId = t.UserId, FamilyId = t.FamilyId, CreatedAt = Ms.To(t.CreatedAt),
        ExpiresAt = Ms.To(t.ExpiresAt), RevokedAt = t.RevokedAt is { } r ? Ms.To(r) : null,
    };

    public RefreshToken ToModel() => new()
    {
        Id = Id, TokenHash = TokenHash, UserId = UserId, FamilyId = FamilyId, CreatedAt = Ms.From(CreatedAt), ExpiresAt = Ms.From(ExpiresAt),
        RevokedAt = RevokedAt is { } r ? Ms.From(r) : null,
    };
}

internal sealed class ApiTokenDocument
{
    [BsonId] public string Id { get; set; } = "";
    public string UserId { get; set; } = "";
    public string Name { get; set; } = "";
    public string TokenHash { get; set; } = "";
    public long CreatedAt { get; set; }
    public long? ExpiresAt { get; set; }
    public long? LastUsedAt { get; set; }
    public long? RevokedAt { get; set; }

    public static ApiTokenDocument From(ApiToken t) => new()
    {
        Id = t.Id, UserId = t.UserId, Name = t.Name, TokenHash = t.TokenHash, CreatedAt = Ms.To(t.CreatedAt),
        ExpiresAt = t.ExpiresAt is { } e ? Ms.To(e) : null, LastUsedAt = t.LastUsedAt is { } u ? Ms.To(u) : null,
        RevokedAt = t.RevokedAt is { } r ? Ms.To(r) : null,
    };

    public ApiToken ToModel() => new()
    {
        Id = Id, UserId = UserId, Name = Name, TokenHash = TokenHash, CreatedAt = Ms.From(CreatedAt),
        ExpiresAt = ExpiresAt is { } e ? Ms.From(e) : null, LastUsedAt = LastUsedAt is { } u ? Ms.From(u) : null,
        RevokedAt = RevokedAt is { } r ? Ms.From(r) : null,
    };
}

internal sealed class TorrentDocument
{
    [BsonId] public string InfoHash { get; set; } = "";
    public string? Name { get; set; }
    public long TotalBytes { get; set; }
    public byte[]? Metainfo { get; set; }
    public string? MagnetUri { get; set; }
    public string? SavePath { get; set; }
    public bool Paused { get; set; }
    public string Priority { get; set; } = nameof(TorrentPriority.Normal);
    public List<string> FilePriorities { get; set; } = [];
    public List<FileDocument> Files { get; set; } = [];
    public List<string> Trackers { get; set; } = [];
    public List<OwnerDocument> Owners { get; set; } = [];

    /// <summary>The owners' ids alone, for the multikey index behind "my torrents".</summary>
    public List<string> OwnerIds { get; set; } = [];
    public long AddedAt { get; set; }
    public long Revision { get; set; }
    public long PublishedRevision { get; set; }
    public bool Pending { get; set; }
    public long ChangedAt { get; set; }
    public int RecheckGeneration { get; set; }
    public bool Removed { get; set; }
    public bool DeleteData { get; set; }
    public string State { get; set; } = nameof(TorrentState.Queued);
    public double Progress { get; set; }
    public long Rate { get; set; }
    public bool StatusReported { get; set; }
    public string StatusJson { get; set; } = "{}";

    public static TorrentDocument From(CatalogTorrent t) => new()
    {
        InfoHash = t.InfoHash, Name = t.Name, TotalBytes = t.TotalBytes, Metainfo = t.Metainfo, MagnetUri = t.MagnetUri, SavePath = t.SavePath,
        Paused = t.Paused, Priority = t.Priority.ToString(), FilePriorities = t.FilePriorities.Select(p => p.ToString()).ToList(),
        Files = t.Files.Select(f => new FileDocument { Path = f.Path, Length = f.Length }).ToList(), Trackers = [.. t.Trackers],
        Owners = t.Owners.Select(o => new OwnerDocument
        {
            UserId = o.UserId, AddedAt = Ms.To(o.AddedAt), WishesJson = JsonSerializer.Serialize(o.Wishes, CatalogJson.Options),
        }).ToList(),
        OwnerIds = t.Owners.Select(o => o.UserId).ToList(), AddedAt = Ms.To(t.AddedAt), Revision = t.Revision,
        PublishedRevision = t.PublishedRevision, Pending = t.Revision > t.PublishedRevision, ChangedAt = DateTime.UtcNow.Ticks,
        RecheckGeneration = t.RecheckGeneration, Removed = t.Removed, DeleteData = t.DeleteData,
    };

    public CatalogTorrent ToModel()
    {
        var torrent = ToModelWithoutOwners();
        // Owners stored before they had their own wishes: the download's were theirs.
        torrent.Owners = Owners.Select(o => new TorrentOwner(o.UserId, Ms.From(o.AddedAt))
        {
            Wishes = o.WishesJson is { } json
                ? JsonSerializer.Deserialize<OwnerWishes>(json, CatalogJson.Options) ?? OwnerWishes.FromDownload(torrent)
                : OwnerWishes.FromDownload(torrent),
        }).ToList();
        return torrent;
    }

    private CatalogTorrent ToModelWithoutOwners() => new()
    {
        InfoHash = InfoHash, Name = Name, TotalBytes = TotalBytes, Metainfo = Metainfo, MagnetUri = MagnetUri, SavePath = SavePath, Paused = Paused,
        Priority = Enum.Parse<TorrentPriority>(Priority), FilePriorities = FilePriorities.Select(Enum.Parse<FilePriority>).ToList(),
        Files = Files.Select(f => new TorrentFileEntry(f.Path, f.Length)).ToList(), Trackers = [.. Trackers],
        AddedAt = Ms.From(AddedAt),
        Revision = Revision, PublishedRevision = PublishedRevision, RecheckGeneration = RecheckGeneration, Removed = Removed,
        DeleteData = DeleteData, Status = JsonSerializer.Deserialize<TorrentStatus>(StatusJson, CatalogJson.Options) ?? new TorrentStatus(),
    };
}

internal sealed class FileDocument
{
    public string Path { get; set; } = "";
    public long Length { get; set; }
}

internal sealed class OwnerDocument
{
    public string UserId { get; set; } = "";
    public long AddedAt { get; set; }

    /// <summary>The owner's <see cref="OwnerWishes"/> as JSON; absent in documents written before owners had their own.</summary>
    public string? WishesJson { get; set; }
}
