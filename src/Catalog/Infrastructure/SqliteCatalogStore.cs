using System.Text.Json;
using Microsoft.Data.Sqlite;
using TorrentEdge.Catalog.Model;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Infrastructure;

/// <summary>The embedded store: one SQLite file in WAL mode; documents as JSON with the queried fields as columns.</summary>
public sealed partial class SqliteCatalogStore(string connectionString) : ICatalogStore
{
    private const string TorrentColumns =
        "info_hash, added_at, revision, published_revision, metainfo, spec, status";

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var directory = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, """
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS users (
                id TEXT PRIMARY KEY,
                normalized_name TEXT NOT NULL UNIQUE,
                created_at INTEGER NOT NULL,
                doc TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS refresh_tokens (
                id TEXT PRIMARY KEY,
                token_hash TEXT NOT NULL UNIQUE,
                user_id TEXT NOT NULL,
                family_id TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NOT NULL,
                revoked_at INTEGER NULL);
            CREATE INDEX IF NOT EXISTS ix_refresh_tokens_user ON refresh_tokens(user_id);
            CREATE TABLE IF NOT EXISTS api_tokens (
                id TEXT PRIMARY KEY,
                token_hash TEXT NOT NULL UNIQUE,
                user_id TEXT NOT NULL,
                name TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                expires_at INTEGER NULL,
                last_used_at INTEGER NULL,
                revoked_at INTEGER NULL);
            CREATE INDEX IF NOT EXISTS ix_api_tokens_user ON api_tokens(user_id);
            CREATE TABLE IF NOT EXISTS torrents (
                info_hash TEXT PRIMARY KEY,
                name TEXT NULL,
                added_at INTEGER NOT NULL,
                state TEXT NOT NULL,
                progress REAL NOT NULL,
                rate INTEGER NOT NULL,
                removed INTEGER NOT NULL,
                revision INTEGER NOT NULL,
                published_revision INTEGER NOT NULL,
                changed_at INTEGER NOT NULL,
                metainfo BLOB NULL,
                spec TEXT NOT NULL,
                status TEXT NOT NULL,
                status_updated INTEGER NULL);
            CREATE INDEX IF NOT EXISTS ix_torrents_unpublished ON torrents(changed_at) WHERE revision > published_revision;
            CREATE TABLE IF NOT EXISTS torrent_owners (
                info_hash TEXT NOT NULL,
                user_id TEXT NOT NULL,
                added_at INTEGER NOT NULL,
                PRIMARY KEY (info_hash, user_id));
            CREATE INDEX IF NOT EXISTS ix_torrent_owners_user ON torrent_owners(user_id);
            """, cancellationToken).ConfigureAwait(false);
        await InitializeLabelsAsync(connection, cancellationToken).ConfigureAwait(false);
    }

    // ---- users ----

    public async Task<User?> CreateUserAsync(User user, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // IMMEDIATE takes the write lock first, so two first registrations cannot both see an empty table.
        await using var transaction = connection.BeginTransaction(deferred: false);
        var count = (long)(await ScalarAsync(connection, transaction, "SELECT COUNT(*) FROM users", cancellationToken).ConfigureAwait(false))!;
        user.Role = count == 0 ? Roles.Admin : Roles.User;
        try
        {
            await ExecuteAsync(connection, transaction,
                "INSERT INTO users (id, normalized_name, created_at, doc) VALUES ($id, $name, $created, $doc)",
                cancellationToken,
                ("$id", user.Id), ("$name", user.NormalizedUserName), ("$created", user.CreatedAt.ToUnixTimeMilliseconds()),
                ("$doc", JsonSerializer.Serialize(user, CatalogJson.Options))).ConfigureAwait(false);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 19) // SQLITE_CONSTRAINT: the name is taken
        {
            return null;
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return user;
    }

    public Task<User?> FindUserByIdAsync(string id, CancellationToken cancellationToken) =>
        FindUserAsync("id", id, cancellationToken);

    public Task<User?> FindUserByNameAsync(string normalizedUserName, CancellationToken cancellationToken) =>
        FindUserAsync("normalized_name", normalizedUserName, cancellationToken);

    private async Task<User?> FindUserAsync(string column, string value, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var doc = (string?)await ScalarAsync(connection, null, $"SELECT doc FROM users WHERE {column} = $v", cancellationToken, ("$v", value)).ConfigureAwait(false);
        return doc is null ? null : JsonSerializer.Deserialize<User>(doc, CatalogJson.Options);
    }

    public async Task<IReadOnlyList<User>> ListUsersAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT doc FROM users ORDER BY created_at, id");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var users = new List<User>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            users.Add(JsonSerializer.Deserialize<User>(reader.GetString(0), CatalogJson.Options)!);
        }
        return users;
    }

    // Users are JSON documents; each change below is one UPDATE whose json_set reads and writes the stored document, so
    // it composes with any concurrent change of other fields (SQLite serialises writers).

    public Task<User?> RecordFailedLoginAsync(string userId, int maxFailedLogins, DateTimeOffset lockoutEnd, CancellationToken cancellationToken) =>
        UpdateUserAsync("""
            UPDATE users SET doc = json_set(doc,
                '$.lockoutEnd', CASE WHEN IFNULL(json_extract(doc, '$.failedLogins'), 0) + 1 >= $max THEN $lockoutEnd ELSE json_extract(doc, '$.lockoutEnd') END,
                '$.failedLogins', CASE WHEN IFNULL(json_extract(doc, '$.failedLogins'), 0) + 1 >= $max THEN 0 ELSE IFNULL(json_extract(doc, '$.failedLogins'), 0) + 1 END)
            WHERE id = $id RETURNING doc
            """, cancellationToken, ("$id", userId), ("$max", maxFailedLogins), ("$lockoutEnd", lockoutEnd.ToString("O", System.Globalization.CultureInfo.InvariantCulture)));

    public Task<User?> RecordSuccessfulLoginAsync(string userId, string? newPasswordHash, CancellationToken cancellationToken) =>
        UpdateUserAsync("""
            UPDATE users SET doc = json_set(doc, '$.failedLogins', 0, '$.lockoutEnd', NULL,
                '$.passwordHash', IFNULL($hash, json_extract(doc, '$.passwordHash')))
            WHERE id = $id AND json_extract(doc, '$.disabled') = 0 RETURNING doc
            """, cancellationToken, ("$id", userId), ("$hash", newPasswordHash));

    public Task<User?> SetUserRoleAsync(string userId, string role, CancellationToken cancellationToken) =>
        UpdateUserAsync("UPDATE users SET doc = json_set(doc, '$.role', $role) WHERE id = $id RETURNING doc",
            cancellationToken, ("$id", userId), ("$role", role));

    public Task<User?> SetUserDisabledAsync(string userId, bool disabled, CancellationToken cancellationToken) =>
        UpdateUserAsync(disabled
            ? "UPDATE users SET doc = json_set(doc, '$.disabled', json('true')) WHERE id = $id RETURNING doc"
            : "UPDATE users SET doc = json_set(doc, '$.disabled', json('false'), '$.failedLogins', 0, '$.lockoutEnd', NULL) WHERE id = $id RETURNING doc",
            cancellationToken, ("$id", userId));

    public Task<User?> SetUserQuotaAsync(string userId, long? maxTorrents, long? maxBytes, CancellationToken cancellationToken) =>
        UpdateUserAsync("UPDATE users SET doc = json_set(doc, '$.maxTorrents', $torrents, '$.maxBytes', $bytes) WHERE id = $id RETURNING doc",
            cancellationToken, ("$id", userId), ("$torrents", maxTorrents), ("$bytes", maxBytes));

    public async Task<(long Torrents, long Bytes)> GetOwnerUsageAsync(string userId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, """
            SELECT COUNT(*), COALESCE(SUM(json_extract(spec, '$.totalBytes')), 0) FROM torrents
            WHERE removed = 0 AND info_hash IN (SELECT info_hash FROM torrent_owners WHERE user_id = $user)
            """, ("$user", userId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    private async Task<User?> UpdateUserAsync(string sql, CancellationToken cancellationToken, params (string, object?)[] args)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var doc = (string?)await ScalarAsync(connection, null, sql, cancellationToken, args).ConfigureAwait(false);
        return doc is null ? null : JsonSerializer.Deserialize<User>(doc, CatalogJson.Options);
    }

    // ---- refresh tokens ----

    public async Task AddRefreshTokenAsync(RefreshToken token, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, """
            INSERT INTO refresh_tokens (id, token_hash, user_id, family_id, created_at, expires_at, revoked_at)
            VALUES ($id, $hash, $user, $family, $created, $expires, $revoked)
            """, cancellationToken,
            ("$id", token.Id), ("$hash", token.TokenHash), ("$user", token.UserId), ("$family", token.FamilyId),
            ("$created", token.CreatedAt.ToUnixTimeMilliseconds()), ("$expires", token.ExpiresAt.ToUnixTimeMilliseconds()),
            ("$revoked", token.RevokedAt?.ToUnixTimeMilliseconds())).ConfigureAwait(false);
    }

    public async Task<RefreshToken?> FindRefreshTokenAsync(string tokenHash, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null,
            "SELECT id, token_hash, user_id, family_id, created_at, expires_at, revoked_at FROM refresh_tokens WHERE token_hash = $hash",
            ("$hash", tokenHash));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        return new RefreshToken
        {
            Id = reader.GetString(0),
            TokenHash = reader.GetString(1),
            UserId = reader.GetString(2),
            FamilyId = reader.GetString(3),
            CreatedAt = FromMs(reader.GetInt64(4)),
            ExpiresAt = FromMs(reader.GetInt64(5)),
            RevokedAt = reader.IsDBNull(6) ? null : FromMs(reader.GetInt64(6)),
        };
    }

    public async Task<bool> TryRevokeRefreshTokenAsync(string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(connection, null, "UPDATE refresh_tokens SET revoked_at = $now WHERE id = $id AND revoked_at IS NULL",
            cancellationToken, ("$id", id), ("$now", now.ToUnixTimeMilliseconds())).ConfigureAwait(false) == 1;
    }

    public async Task RevokeRefreshTokensAsync(string userId, string? familyId, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, """
            UPDATE refresh_tokens SET revoked_at = $now
            WHERE user_id = $user AND ($family IS NULL OR family_id = $family) AND revoked_at IS NULL
            """, cancellationToken, ("$user", userId), ("$family", familyId), ("$now", now.ToUnixTimeMilliseconds())).ConfigureAwait(false);
    }

    // ---- API tokens ----

    public async Task AddApiTokenAsync(ApiToken token, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, """
            INSERT INTO api_tokens (id, token_hash, user_id, name, created_at, expires_at, last_used_at, revoked_at)
            VALUES ($id, $hash, $user, $name, $created, $expires, NULL, NULL)
            """, cancellationToken,
            ("$id", token.Id), ("$hash", token.TokenHash), ("$user", token.UserId), ("$name", token.Name),
            ("$created", token.CreatedAt.ToUnixTimeMilliseconds()), ("$expires", token.ExpiresAt?.ToUnixTimeMilliseconds())).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<ApiToken>> ListApiTokensAsync(string userId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ReadApiTokensAsync(connection, "user_id = $v ORDER BY created_at, id", userId, cancellationToken).ConfigureAwait(false);
    }

    public async Task<ApiToken?> FindApiTokenAsync(string tokenHash, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var tokens = await ReadApiTokensAsync(connection, "token_hash = $v", tokenHash, cancellationToken).ConfigureAwait(false);
        return tokens.Count == 0 ? null : tokens[0];
    }

    private static async Task<List<ApiToken>> ReadApiTokensAsync(SqliteConnection connection, string where, string value, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, null,
            "SELECT id, token_hash, user_id, name, created_at, expires_at, last_used_at, revoked_at FROM api_tokens WHERE " + where,
            ("$v", value));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var tokens = new List<ApiToken>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            tokens.Add(new ApiToken
            {
                Id = reader.GetString(0),
                TokenHash = reader.GetString(1),
                UserId = reader.GetString(2),
                Name = reader.GetString(3),
                CreatedAt = FromMs(reader.GetInt64(4)),
                ExpiresAt = reader.IsDBNull(5) ? null : FromMs(reader.GetInt64(5)),
                LastUsedAt = reader.IsDBNull(6) ? null : FromMs(reader.GetInt64(6)),
                RevokedAt = reader.IsDBNull(7) ? null : FromMs(reader.GetInt64(7)),
            });
        }
        return tokens;
    }

    public async Task<bool> RevokeApiTokenAsync(string userId, string id, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(connection, null,
            "UPDATE api_tokens SET revoked_at = $now WHERE id = $id AND user_id = $user AND revoked_at IS NULL",
            cancellationToken, ("$id", id), ("$user", userId), ("$now", now.ToUnixTimeMilliseconds())).ConfigureAwait(false) == 1;
    }

    // ---- torrents ----

    public async Task<CatalogTorrent?> FindTorrentAsync(string infoHash, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var list = await ReadTorrentsAsync(connection, $"SELECT {TorrentColumns} FROM torrents WHERE info_hash = $hash", cancellationToken,
            ("$hash", infoHash)).ConfigureAwait(false);
        return list.Count == 0 ? null : list[0];
    }

    public async Task<TorrentPage> ListTorrentsAsync(TorrentQuery query, CancellationToken cancellationToken)
    {
        const string where = """
            WHERE removed = 0
              AND ($owner IS NULL OR info_hash IN (SELECT info_hash FROM torrent_owners WHERE user_id = $owner))
              AND ($state IS NULL OR state = $state)
              AND ($hashes IS NULL OR info_hash IN (SELECT value FROM json_each($hashes)))
            """;
        var order = query.Sort switch
        {
            TorrentSort.Name => "name COLLATE NOCASE",
            TorrentSort.Progress => "progress",
            TorrentSort.Rate => "rate",
            _ => "added_at",
        } + (query.Descending ? " DESC" : " ASC") + ", info_hash";
        (string, object?)[] args =
        [
            ("$owner", query.OwnerId), ("$state", query.State?.ToString()), ("$skip", query.Skip), ("$take", query.Take),
            ("$hashes", query.InfoHashes is null ? null : JsonSerializer.Serialize(query.InfoHashes)),
        ];

        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var total = (long)(await ScalarAsync(connection, null, "SELECT COUNT(*) FROM torrents " + where, cancellationToken, args).ConfigureAwait(false))!;
        var items = await ReadTorrentsAsync(connection,
            $"SELECT {TorrentColumns} FROM torrents {where} ORDER BY {order} LIMIT $take OFFSET $skip", cancellationToken, args).ConfigureAwait(false);
        return new TorrentPage(items, total);
    }

    public async Task<bool> TryInsertTorrentAsync(CatalogTorrent torrent, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = connection.BeginTransaction(deferred: false);
        try
        {
            await ExecuteAsync(connection, transaction, """
                INSERT INTO torrents (info_hash, name, added_at, state, progress, rate, removed, revision, published_revision,
                                      changed_at, metainfo, spec, status, status_updated)
                VALUES ($hash, $name, $added, $state, $progress, $rate, $removed, $revision, $published,
                        $changed, $metainfo, $spec, $status, $status_updated)
                """, cancellationToken,
                ("$hash", torrent.InfoHash), ("$name", torrent.Name), ("$added", torrent.AddedAt.ToUnixTimeMilliseconds()),
                ("$state", torrent.EffectiveState.ToString()), ("$progress", torrent.Status.Progress),
                ("$rate", torrent.Status.DownloadRate + torrent.Status.UploadRate), ("$removed", torrent.Removed ? 1 : 0),
                ("$revision", torrent.Revision), ("$published", torrent.PublishedRevision), ("$changed", ChangeStamp()),
                ("$metainfo", torrent.Metainfo), ("$spec", SerializeSpec(torrent)),
                ("$status", JsonSerializer.Serialize(torrent.Status, CatalogJson.Options)),
                ("$status_updated", torrent.Status.UpdatedAt?.ToUnixTimeMilliseconds())).ConfigureAwait(false);
        }
        catch (SqliteException e) when (e.SqliteErrorCode == 19)
        {
            return false;
        }
        await WriteOwnersAsync(connection, transaction, torrent, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<bool> TryReplaceTorrentAsync(CatalogTorrent torrent, long expectedRevision, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = connection.BeginTransaction(deferred: false);
        var changed = await ExecuteAsync(connection, transaction, """
            UPDATE torrents SET
                name = $name, added_at = $added, removed = $removed, revision = $revision, changed_at = $changed,
                metainfo = $metainfo, spec = $spec,
                state = CASE WHEN status_updated IS NULL THEN $state ELSE state END
            WHERE info_hash = $hash AND revision = $expected
            """, cancellationToken,
            ("$hash", torrent.InfoHash), ("$name", torrent.Name), ("$added", torrent.AddedAt.ToUnixTimeMilliseconds()),
            ("$removed", torrent.Removed ? 1 : 0), ("$revision", torrent.Revision), ("$changed", ChangeStamp()),
            ("$metainfo", torrent.Metainfo), ("$spec", SerializeSpec(torrent)), ("$state", torrent.EffectiveState.ToString()),
            ("$expected", expectedRevision)).ConfigureAwait(false);
        if (changed == 0)
        {
            return false;
        }
        await ExecuteAsync(connection, transaction, "DELETE FROM torrent_owners WHERE info_hash = $hash", cancellationToken,
            ("$hash", torrent.InfoHash)).ConfigureAwait(false);
        await WriteOwnersAsync(connection, transaction, torrent, cancellationToken).ConfigureAwait(false);
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<bool> UpdateStatusAsync(string infoHash, TorrentStatus status, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var state = status.State?.ToString();
        return await ExecuteAsync(connection, null, """
            UPDATE torrents SET status = $status, status_updated = $updated, progress = $progress, rate = $rate,
                state = COALESCE($state, state)
            WHERE info_hash = $hash
            """, cancellationToken,
            ("$hash", infoHash), ("$status", JsonSerializer.Serialize(status, CatalogJson.Options)),
            ("$updated", (status.UpdatedAt ?? DateTimeOffset.UtcNow).ToUnixTimeMilliseconds()), ("$progress", status.Progress),
            ("$rate", status.DownloadRate + status.UploadRate), ("$state", state)).ConfigureAwait(false) == 1;
    }

    public async Task<IReadOnlyList<CatalogTorrent>> ListUnpublishedAsync(int limit, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ReadTorrentsAsync(connection,
            $"SELECT {TorrentColumns} FROM torrents WHERE revision > published_revision ORDER BY changed_at LIMIT $limit",
            cancellationToken, ("$limit", limit)).ConfigureAwait(false);
    }

    public async Task MarkPublishedAsync(string infoHash, long revision, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null,
            "UPDATE torrents SET published_revision = $revision WHERE info_hash = $hash AND published_revision < $revision",
            cancellationToken, ("$hash", infoHash), ("$revision", revision)).ConfigureAwait(false);
    }

    public async Task<long> MarkAllUnpublishedAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        // Revisions start at 1, so 0 is "never acknowledged"; changed_at stays, so the oldest change still goes first.
        return await ExecuteAsync(connection, null, "UPDATE torrents SET published_revision = 0", cancellationToken).ConfigureAwait(false);
    }

    // ---- helpers ----

    // Microseconds keep the outbox order stable for changes made within the same millisecond.
    private static long ChangeStamp() => DateTime.UtcNow.Ticks / 10;

    private static string SerializeSpec(CatalogTorrent torrent) => JsonSerializer.Serialize(TorrentSpecDocument.From(torrent), CatalogJson.Options);

    private static async Task WriteOwnersAsync(SqliteConnection connection, SqliteTransaction transaction, CatalogTorrent torrent, CancellationToken cancellationToken)
    {
        foreach (var owner in torrent.Owners)
        {
            await ExecuteAsync(connection, transaction,
                "INSERT INTO torrent_owners (info_hash, user_id, added_at) VALUES ($hash, $user, $added)", cancellationToken,
                ("$hash", torrent.InfoHash), ("$user", owner.UserId), ("$added", owner.AddedAt.ToUnixTimeMilliseconds())).ConfigureAwait(false);
        }
    }

    private static async Task<List<CatalogTorrent>> ReadTorrentsAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken, params (string, object?)[] args)
    {
        var torrents = new List<CatalogTorrent>();
        var wishes = new Dictionary<string, Dictionary<string, OwnerWishes>?>(StringComparer.Ordinal);
        await using (var command = Command(connection, null, sql, args))
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var spec = JsonSerializer.Deserialize<TorrentSpecDocument>(reader.GetString(5), CatalogJson.Options)!;
                var torrent = spec.ToTorrent(reader.GetString(0));
                wishes[torrent.InfoHash] = spec.OwnerWishes;
                torrent.AddedAt = FromMs(reader.GetInt64(1));
                torrent.Revision = reader.GetInt64(2);
                torrent.PublishedRevision = reader.GetInt64(3);
                torrent.Metainfo = reader.IsDBNull(4) ? null : (byte[])reader.GetValue(4);
                torrent.Status = JsonSerializer.Deserialize<TorrentStatus>(reader.GetString(6), CatalogJson.Options)!;
                torrents.Add(torrent);
            }
        }
        foreach (var torrent in torrents)
        {
            await using var command = Command(connection, null,
                "SELECT user_id, added_at FROM torrent_owners WHERE info_hash = $hash ORDER BY added_at, user_id", ("$hash", torrent.InfoHash));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var userId = reader.GetString(0);
                torrent.Owners.Add(new TorrentOwner(userId, FromMs(reader.GetInt64(1)))
                {
                    // Rows stored before owners had their own wishes: the download's were theirs.
                    Wishes = wishes[torrent.InfoHash]?.GetValueOrDefault(userId) ?? OwnerWishes.FromDownload(torrent),
                });
            }
        }
        return torrents;
    }

    private static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? transaction, string sql, params (string Name, object? Value)[] args)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        foreach (var (name, value) in args)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
        return command;
    }

    private static async Task<int> ExecuteAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken, params (string, object?)[] args)
    {
        await using var command = Command(connection, transaction, sql, args);
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken, params (string, object?)[] args)
    {
        await using var command = Command(connection, transaction, sql, args);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is DBNull ? null : value;
    }
}

/// <summary>The desired-state fields of a torrent as one stored document (owners, metainfo and status live apart).</summary>
internal sealed record TorrentSpecDocument(
    string? Name,
    long TotalBytes,
    string? MagnetUri,
    string? SavePath,
    bool Paused,
    TorrentPriority Priority,
    List<FilePriority> FilePriorities,
    List<TorrentFileEntry> Files,
    List<string> Trackers,
    int RecheckGeneration,
    bool Removed,
    bool DeleteData,
    Dictionary<string, OwnerWishes>? OwnerWishes = null)
{
    public static TorrentSpecDocument From(CatalogTorrent t) =>
        new(t.Name, t.TotalBytes, t.MagnetUri, t.SavePath, t.Paused, t.Priority, t.FilePriorities, t.Files, t.Trackers,
            t.RecheckGeneration, t.Removed, t.DeleteData, t.Owners.ToDictionary(o => o.UserId, o => o.Wishes, StringComparer.Ordinal));

    public CatalogTorrent ToTorrent(string infoHash) => new()
    {
        InfoHash = infoHash,
        Name = Name,
        TotalBytes = TotalBytes,
        MagnetUri = MagnetUri,
        SavePath = SavePath,
        Paused = Paused,
        Priority = Priority,
        FilePriorities = FilePriorities,
        Files = Files,
        Trackers = Trackers,
        RecheckGeneration = RecheckGeneration,
        Removed = Removed,
        DeleteData = DeleteData,
    };
}
