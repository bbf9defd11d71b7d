using System.Text.Json;
using Microsoft.Data.Sqlite;
using TorrentEdge.Catalog.Model;

namespace TorrentEdge.Catalog.Infrastructure;

// Per-user labels in tables of their own, so the torrent documents (and who changes them) stay as they are.
public sealed partial class SqliteCatalogStore
{
    private static Task InitializeLabelsAsync(SqliteConnection connection, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, null, """
            CREATE TABLE IF NOT EXISTS torrent_labels (
                user_id TEXT NOT NULL,
                info_hash TEXT NOT NULL,
                doc TEXT NOT NULL,
                PRIMARY KEY (user_id, info_hash));
            CREATE TABLE IF NOT EXISTS user_labels (
                user_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                name TEXT NOT NULL,
                value TEXT NULL,
                PRIMARY KEY (user_id, kind, name));
            """, cancellationToken);

    public async Task<IReadOnlyList<TorrentLabels>> ListTorrentLabelsAsync(string userId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null, "SELECT doc FROM torrent_labels WHERE user_id = $u ORDER BY info_hash", ("$u", userId));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<TorrentLabels>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(JsonSerializer.Deserialize<TorrentLabels>(reader.GetString(0), CatalogJson.Options)!);
        }
        return result;
    }

    public async Task<TorrentLabels?> FindTorrentLabelsAsync(string userId, string infoHash, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        var doc = (string?)await ScalarAsync(connection, null, "SELECT doc FROM torrent_labels WHERE user_id = $u AND info_hash = $h",
            cancellationToken, ("$u", userId), ("$h", infoHash)).ConfigureAwait(false);
        return doc is null ? null : JsonSerializer.Deserialize<TorrentLabels>(doc, CatalogJson.Options);
    }

    public async Task SaveTorrentLabelsAsync(TorrentLabels labels, CancellationToken cancellationToken)
    {
        if (labels.IsEmpty)
        {
            await DeleteTorrentLabelsAsync(labels.UserId, labels.InfoHash, cancellationToken).ConfigureAwait(false);
            return;
        }
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, """
            INSERT INTO torrent_labels (user_id, info_hash, doc) VALUES ($u, $h, $doc)
            ON CONFLICT (user_id, info_hash) DO UPDATE SET doc = excluded.doc
            """, cancellationToken, ("$u", labels.UserId), ("$h", labels.InfoHash),
            ("$doc", JsonSerializer.Serialize(labels, CatalogJson.Options))).ConfigureAwait(false);
    }

    public async Task DeleteTorrentLabelsAsync(string userId, string infoHash, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, "DELETE FROM torrent_labels WHERE user_id = $u AND info_hash = $h",
            cancellationToken, ("$u", userId), ("$h", infoHash)).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<UserLabel>> ListUserLabelsAsync(string userId, string? kind, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = Command(connection, null,
            "SELECT kind, name, value FROM user_labels WHERE user_id = $u AND ($k IS NULL OR kind = $k) ORDER BY kind, name",
            ("$u", userId), ("$k", kind));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var result = new List<UserLabel>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result.Add(new UserLabel(userId, reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2)));
        }
        return result;
    }

    public async Task<bool> TryAddUserLabelAsync(UserLabel label, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(connection, null,
            "INSERT INTO user_labels (user_id, kind, name, value) VALUES ($u, $k, $n, $v) ON CONFLICT DO NOTHING",
            cancellationToken, ("$u", label.UserId), ("$k", label.Kind), ("$n", label.Name), ("$v", label.Value)).ConfigureAwait(false) == 1;
    }

    public async Task SaveUserLabelAsync(UserLabel label, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, """
            INSERT INTO user_labels (user_id, kind, name, value) VALUES ($u, $k, $n, $v)
            ON CONFLICT (user_id, kind, name) DO UPDATE SET value = excluded.value
            """, cancellationToken, ("$u", label.UserId), ("$k", label.Kind), ("$n", label.Name), ("$v", label.Value)).ConfigureAwait(false);
    }

    public async Task<bool> DeleteUserLabelAsync(string userId, string kind, string name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        return await ExecuteAsync(connection, null, "DELETE FROM user_labels WHERE user_id = $u AND kind = $k AND name = $n",
            cancellationToken, ("$u", userId), ("$k", kind), ("$n", name)).ConfigureAwait(false) == 1;
    }
}
