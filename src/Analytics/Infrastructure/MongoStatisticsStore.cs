using System.Text.Json;
using MongoDB.Bson;
using MongoDB.Bson.Serialization.Attributes;
using MongoDB.Driver;
using TorrentEdge.Analytics.Model;

namespace TorrentEdge.Analytics.Infrastructure;

/// <summary>
/// The production store on MongoDB: collections <c>torrents</c> (one document per torrent), <c>rates</c> (one per
/// torrent, step and bucket) and <c>events</c> (recorded event ids, removed by a TTL index).
/// </summary>
/// <remarks>
/// Without a transaction the event id is inserted first: a duplicate stops there. A crash after the id and before the
/// rest loses that one event's rate sample (the torrent's record is the latest values, which the next event sets again)
/// rather than counting a redelivered one twice.
/// </remarks>
public sealed class MongoStatisticsStore : IStatisticsStore
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly HistoryStep[] Steps = [HistoryStep.Second, HistoryStep.Minute, HistoryStep.Hour];

    private readonly IMongoCollection<TorrentDocument> _torrents;
    private readonly IMongoCollection<RateDocument> _rates;
    private readonly IMongoCollection<EventDocument> _events;

    public MongoStatisticsStore(string connectionString, string? databaseName = null)
    {
        var url = MongoUrl.Create(connectionString);
        var database = new MongoClient(url).GetDatabase(databaseName ?? url.DatabaseName ?? "analytics");
        _torrents = database.GetCollection<TorrentDocument>("torrents");
        _rates = database.GetCollection<RateDocument>("rates");
        _events = database.GetCollection<EventDocument>("events");
    }

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await _rates.Indexes.CreateOneAsync(new CreateIndexModel<RateDocument>(
            Builders<RateDocument>.IndexKeys.Ascending(r => r.Step).Ascending(r => r.InfoHash).Ascending(r => r.Bucket)), cancellationToken: cancellationToken).ConfigureAwait(false);
        await _events.Indexes.CreateOneAsync(new CreateIndexModel<EventDocument>(
            Builders<EventDocument>.IndexKeys.Ascending(e => e.RecordedAt), new CreateIndexOptions { ExpireAfter = RateHistoryRetention.EventIds }),
            cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<TorrentRecord>> LoadTorrentsAsync(CancellationToken cancellationToken) =>
        (await _torrents.Find(FilterDefinition<TorrentDocument>.Empty).ToListAsync(cancellationToken).ConfigureAwait(false))
            .Select(d => JsonSerializer.Deserialize<TorrentRecord>(d.Doc, Json)!).ToList();

    public async Task<bool> IsRecordedAsync(Guid eventId, CancellationToken cancellationToken) =>
        await _events.Find(e => e.Id == eventId.ToString("N")).AnyAsync(cancellationToken).ConfigureAwait(false);

    public async Task<bool> RecordAsync(Guid eventId, TorrentRecord torrent, RateObservation? rate, CancellationToken cancellationToken)
    {
        try
        {
            await _events.InsertOneAsync(new EventDocument { Id = eventId.ToString("N"), RecordedAt = DateTime.UtcNow }, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (MongoWriteException e) when (e.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            return false;
        }
        await _torrents.ReplaceOneAsync(t => t.Id == torrent.InfoHash,
            new TorrentDocument { Id = torrent.InfoHash, Doc = JsonSerializer.Serialize(torrent, Json) },
            new ReplaceOptions { IsUpsert = true }, cancellationToken).ConfigureAwait(false);
        if (rate is not null)
        {
            var hash = rate.InfoHash.ToLowerInvariant();
            var writes = Steps.Select(step =>
            {
                var bucket = RateHistoryRetention.BucketOf(rate.At, step);
                return (WriteModel<RateDocument>)new UpdateOneModel<RateDocument>(
                    Builders<RateDocument>.Filter.Eq(r => r.Id, $"{(int)step}:{hash}:{bucket}"),
                    Builders<RateDocument>.Update
                        .SetOnInsert(r => r.InfoHash, hash).SetOnInsert(r => r.Step, (int)step).SetOnInsert(r => r.Bucket, bucket)
                        .Inc(r => r.DownloadSum, rate.DownloadRate).Inc(r => r.UploadSum, rate.UploadRate).Inc(r => r.Samples, 1))
                { IsUpsert = true };
            }).ToList();
            await _rates.BulkWriteAsync(writes, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        return true;
    }

    public async Task<IReadOnlyList<RatePoint>> GetRateHistoryAsync(IReadOnlyCollection<string> infoHashes, HistoryStep step, DateTimeOffset from, DateTimeOffset to,
        CancellationToken cancellationToken)
    {
        if (infoHashes.Count == 0)
        {
            return [];
        }
        var hashes = infoHashes.Select(h => h.ToLowerInvariant()).ToList();
        var start = RateHistoryRetention.BucketOf(from, step);
        var end = to.ToUnixTimeSeconds();
        var documents = await _rates.Find(r => r.Step == (int)step && hashes.Contains(r.InfoHash) && r.Bucket >= start && r.Bucket < end)
            .ToListAsync(cancellationToken).ConfigureAwait(false);
        // Summed here rather than in an aggregation: a history request reads at most a few thousand buckets per torrent.
        return documents.GroupBy(r => r.Bucket).OrderBy(g => g.Key)
            .Select(g => new RatePoint(DateTimeOffset.FromUnixTimeSeconds(g.Key), g.Sum(r => r.DownloadSum / r.Samples), g.Sum(r => r.UploadSum / r.Samples)))
            .ToList();
    }

    public async Task PruneAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var step in Steps)
        {
            if (RateHistoryRetention.For(step) is { } keep)
            {
                var before = (now - keep).ToUnixTimeSeconds();
                await _rates.DeleteManyAsync(r => r.Step == (int)step && r.Bucket < before, cancellationToken).ConfigureAwait(false);
            }
        }
        // The TTL index removes event ids in the background; this makes pruning exact when asked.
        var old = (now - RateHistoryRetention.EventIds).UtcDateTime;
        await _events.DeleteManyAsync(e => e.RecordedAt < old, cancellationToken).ConfigureAwait(false);
    }

    private sealed class TorrentDocument
    {
        [BsonId]
        public required string Id { get; init; }
        public required string Doc { get; init; }
    }

    private sealed class RateDocument
    {
        [BsonId]
        public required string Id { get; init; }
        public string InfoHash { get; init; } = "";
        public int Step { get; init; }
        public long Bucket { get; init; }
        public long DownloadSum { get; init; }
        public long UploadSum { get; init; }
        public long Samples { get; init; }
    }

    private sealed class EventDocument
    {
        [BsonId]
        public required string Id { get; init; }
        public DateTime RecordedAt { get; init; }
    }
}
