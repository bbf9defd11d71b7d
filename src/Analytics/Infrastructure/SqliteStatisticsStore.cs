using System.Text.Json;
using Microsoft.Data.Sqlite;
using TorrentEdge.Analytics.Model;

namespace TorrentEdge.Analytics.Infrastructure;

/// <summary>
/// The embedded store: one SQLite file in WAL mode. An event's id, its torrent's record and its rate buckets are written
/// in one transaction, so a crash keeps all of an event or none of it.
/// </summary>
public sealed class SqliteStatisticsStore(string connectionString) : IStatisticsStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly HistoryStep[] Steps = [HistoryStep.Second, HistoryStep.Minute, HistoryStep.Hour];

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(new SqliteConnectionStringBuilder(connectionString).DataSource));
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, null, """
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS torrents (
                info_hash TEXT PRIMARY KEY,
                doc TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS events (
                id TEXT PRIMARY KEY,
                recorded_at INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS ix_events_recorded ON events(recorded_at);
            CREATE TABLE IF NOT EXISTS rates (
                info_hash TEXT NOT NULL,
                step INTEGER NOT NULL,
                bucket INTEGER NOT NULL,
                download_sum INTEGER NOT NULL,
                upload_sum INTEGER NOT NULL,
                samples INTEGER NOT NULL,
                PRIMARY KEY (step, info_hash, bucket));
            CREATE INDEX IF NOT EXISTS ix_rates_bucket ON rates(step, bucket);
            """, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<TorrentRecord>> LoadTorrentsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT doc FROM torrents";
        var records = new List<TorrentRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            records.Add(JsonSerializer.Deserialize<TorrentRecord>(reader.GetString(0), Json)!);
        }
        return records;
    }

    public async Task<bool> IsRecordedAsync(Guid eventId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT 1 FROM events WHERE id = $id";
        command.Parameters.AddWithValue("$id", eventId.ToString("N"));
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is not null;
    }

    public async Task<bool> RecordAsync(Guid eventId, TorrentRecord torrent, RateObservation? rate, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        var inserted = await ExecuteAsync(connection, transaction, "INSERT OR IGNORE INTO events (id, recorded_at) VALUES ($id, $at)", cancellationToken,
            ("$id", eventId.ToString("N")), ("$at", DateTimeOffset.UtcNow.ToUnixTimeSeconds())).ConfigureAwait(false);
        if (inserted == 0)
        {
            return false;
        }
        await ExecuteAsync(connection, transaction, """
            INSERT INTO torrents (info_hash, doc) VALUES ($hash, $doc)
            ON CONFLICT(info_hash) DO UPDATE SET doc = excluded.doc
            """, cancellationToken, ("$hash", torrent.InfoHash), ("$doc", JsonSerializer.Serialize(torrent, Json))).ConfigureAwait(false);
        if (rate is not null)
        {
            foreach (var step in Steps)
            {
                await ExecuteAsync(connection, transaction, """
                    INSERT INTO rates (info_hash, step, bucket, download_sum, upload_sum, samples) VALUES ($hash, $step, $bucket, $down, $up, 1)
                    ON CONFLICT(step, info_hash, bucket) DO UPDATE SET
                        download_sum = download_sum + excluded.download_sum, upload_sum = upload_sum + excluded.upload_sum, samples = samples + 1
                    """, cancellationToken, ("$hash", rate.InfoHash.ToLowerInvariant()), ("$step", (int)step),
                    ("$bucket", RateHistoryRetention.BucketOf(rate.At, step)), ("$down", rate.DownloadRate), ("$up", rate.UploadRate)).ConfigureAwait(false);
            }
        }
        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async Task<IReadOnlyList<RatePoint>> GetRateHistoryAsync(IReadOnlyCollection<string> infoHashes, HistoryStep step, DateTimeOffset from, DateTimeOffset to,
        CancellationToken cancellationToken)
    {
        if (infoHashes.Count == 0)
        {
            return [];
        }
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = connection.CreateCommand();
        // The hashes travel as one JSON parameter: no SQL is built from input.
        command.CommandText = """
            SELECT bucket, SUM(download_sum / samples), SUM(upload_sum / samples) FROM rates
            WHERE step = $step AND bucket >= $from AND bucket < $to AND info_hash IN (SELECT value FROM json_each($hashes))
            GROUP BY bucket ORDER BY bucket
            """;
        command.Parameters.AddWithValue("$step", (int)step);
        command.Parameters.AddWithValue("$from", RateHistoryRetention.BucketOf(from, step));
        command.Parameters.AddWithValue("$to", to.ToUnixTimeSeconds());
        command.Parameters.AddWithValue("$hashes", JsonSerializer.Serialize(infoHashes.Select(h => h.ToLowerInvariant())));
        var points = new List<RatePoint>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            points.Add(new RatePoint(DateTimeOffset.FromUnixTimeSeconds(reader.GetInt64(0)), reader.GetInt64(1), reader.GetInt64(2)));
        }
        return points;
    }

    public async Task PruneAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        foreach (var step in Steps)
        {
            if (RateHistoryRetention.For(step) is { } keep)
            {
                await ExecuteAsync(connection, null, "DELETE FROM rates WHERE step = $step AND bucket < $before", cancellationToken,
                    ("$step", (int)step), ("$before", (now - keep).ToUnixTimeSeconds())).ConfigureAwait(false);
            }
        }
        await ExecuteAsync(connection, null, "DELETE FROM events WHERE recorded_at < $before", cancellationToken,
            ("$before", (now - RateHistoryRetention.EventIds).ToUnixTimeSeconds())).ConfigureAwait(false);
    }

    private static async Task<int> ExecuteAsync(SqliteConnection connection, SqliteTransaction? transaction, string sql, CancellationToken cancellationToken,
        params (string Name, object Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
