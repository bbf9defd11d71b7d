using TorrentEdge.Catalog.Model;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Infrastructure;

/// <summary>The one repository Catalog needs: accounts, tokens, torrents with their owners and status, and the outbox.</summary>
/// <remarks>Implemented on SQLite (embedded default) and MongoDB (production); one contract test suite covers both.</remarks>
public interface ICatalogStore : ITorrentLabelStore
{
    /// <summary>Creates the schema or indexes; called once at start.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Adds a user; the first user ever becomes an admin. Returns null when the user name is taken.</summary>
    Task<User?> CreateUserAsync(User user, CancellationToken cancellationToken);
    Task<User?> FindUserByIdAsync(string id, CancellationToken cancellationToken);
    Task<User?> FindUserByNameAsync(string normalizedUserName, CancellationToken cancellationToken);
    Task<IReadOnlyList<User>> ListUsersAsync(CancellationToken cancellationToken);

    // Accounts change field by field, each in one atomic statement or document update: a whole-record rewrite from a
    // copy read earlier loses concurrent failed-login counts and undoes an admin's disable or demotion.

    /// <summary>
    /// Counts one failed log-in atomically. On reaching <paramref name="maxFailedLogins"/> the account is locked until
    /// <paramref name="lockoutEnd"/> and the count starts again. Returns the account as stored after the change, or null.
    /// </summary>
    Task<User?> RecordFailedLoginAsync(string userId, int maxFailedLogins, DateTimeOffset lockoutEnd, CancellationToken cancellationToken);

    /// <summary>
    /// Clears the failed-login count and lockout (and replaces the password hash when <paramref name="newPasswordHash"/> is
    /// given) only if the account is still enabled. Returns the account as stored after the change (its current role), or
    /// null when it is disabled or gone, so a log-in racing an admin's disable fails.
    /// </summary>
    Task<User?> RecordSuccessfulLoginAsync(string userId, string? newPasswordHash, CancellationToken cancellationToken);

    /// <summary>Sets the role only. Returns the account after the change, or null when there is none.</summary>
    Task<User?> SetUserRoleAsync(string userId, string role, CancellationToken cancellationToken);

    /// <summary>Disables or enables the account; enabling also clears failed log-ins and lockout. Null when there is none.</summary>
    Task<User?> SetUserDisabledAsync(string userId, bool disabled, CancellationToken cancellationToken);

    /// <summary>Sets the user's quota overrides only (null: the configured default). Null when there is no such user.</summary>
    Task<User?> SetUserQuotaAsync(string userId, long? maxTorrents, long? maxBytes, CancellationToken cancellationToken);

    /// <summary>How many torrents (not removed) the user owns and their total size.</summary>
    Task<(long Torrents, long Bytes)> GetOwnerUsageAsync(string userId, CancellationToken cancellationToken);

    Task AddRefreshTokenAsync(RefreshToken token, CancellationToken cancellationToken);
    Task<RefreshToken?> FindRefreshTokenAsync(string tokenHash, CancellationToken cancellationToken);

    /// <summary>Revokes one token if it is still active; false when it was already revoked (so two racing refreshes cannot both win).</summary>
    Task<bool> TryRevokeRefreshTokenAsync(string id, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Revokes every active token of a user, or only of one family when <paramref name="familyId"/> is given.</summary>
    Task RevokeRefreshTokensAsync(string userId, string? familyId, DateTimeOffset now, CancellationToken cancellationToken);

    Task AddApiTokenAsync(ApiToken token, CancellationToken cancellationToken);
    Task<IReadOnlyList<ApiToken>> ListApiTokensAsync(string userId, CancellationToken cancellationToken);
    Task<ApiToken?> FindApiTokenAsync(string tokenHash, CancellationToken cancellationToken);
    Task<bool> RevokeApiTokenAsync(string userId, string id, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The torrent, including one marked removed (so a re-add can revive it with a higher revision).</summary>
    Task<CatalogTorrent?> FindTorrentAsync(string infoHash, CancellationToken cancellationToken);
    Task<TorrentPage> ListTorrentsAsync(TorrentQuery query, CancellationToken cancellationToken);

    /// <summary>Inserts a new torrent; false when the info-hash exists (removed or not).</summary>
    Task<bool> TryInsertTorrentAsync(CatalogTorrent torrent, CancellationToken cancellationToken);

    /// <summary>
    /// Writes the desired state and owners of <paramref name="torrent"/> if the stored revision is still
    /// <paramref name="expectedRevision"/> (optimistic concurrency); the status is left alone.
    /// </summary>
    Task<bool> TryReplaceTorrentAsync(CatalogTorrent torrent, long expectedRevision, CancellationToken cancellationToken);

    /// <summary>Stores the projected status of a torrent; false when the torrent is unknown.</summary>
    Task<bool> UpdateStatusAsync(string infoHash, TorrentStatus status, CancellationToken cancellationToken);

    /// <summary>The outbox: torrents whose desired state changed after the last acknowledged publish, oldest change first.</summary>
    Task<IReadOnlyList<CatalogTorrent>> ListUnpublishedAsync(int limit, CancellationToken cancellationToken);

    /// <summary>Records that <paramref name="revision"/> was acknowledged by the broker (never moves backwards).</summary>
    Task MarkPublishedAsync(string infoHash, long revision, CancellationToken cancellationToken);

    /// <summary>
    /// Puts every torrent (removed ones included) back into the outbox, so its latest desired state is published again;
    /// returns how many. For a log that lost its contents: an in-memory broker restarted, or a topic deleted and recreated.
    /// </summary>
    Task<long> MarkAllUnpublishedAsync(CancellationToken cancellationToken);
}

/// <summary>How a list of torrents is asked for.</summary>
public sealed record TorrentQuery(string? OwnerId, TorrentState? State, TorrentSort Sort, bool Descending, int Skip, int Take)
{
    /// <summary>Only these torrents (null: any); how per-user label filters reach the store, which keeps labels apart.</summary>
    public IReadOnlyCollection<string>? InfoHashes { get; init; }
}

/// <summary>The keys torrents can be sorted by.</summary>
public enum TorrentSort { Added, Name, Progress, Rate }

/// <summary>One page of torrents and how many match in all.</summary>
public sealed record TorrentPage(IReadOnlyList<CatalogTorrent> Items, long Total);
