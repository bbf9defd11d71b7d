using MongoDB.Bson.Serialization.Attributes;
using MongoDB.Driver;
using TorrentEdge.Catalog.Model;

namespace TorrentEdge.Catalog.Infrastructure;

// Per-user labels in collections of their own, so the torrent documents (and who changes them) stay as they are.
// The _id is the composite key: (user, info-hash) or (user, kind, name) joined by '\n', which neither part contains.
public sealed partial class MongoCatalogStore
{
    private readonly IMongoCollection<TorrentLabelsDocument> _torrentLabels;
    private readonly IMongoCollection<UserLabelDocument> _userLabels;

    private Task InitializeLabelsAsync(CancellationToken cancellationToken) => Task.WhenAll(
        _torrentLabels.Indexes.CreateOneAsync(
            new CreateIndexModel<TorrentLabelsDocument>(Builders<TorrentLabelsDocument>.IndexKeys.Ascending(t => t.UserId)), cancellationToken: cancellationToken),
        _userLabels.Indexes.CreateOneAsync(
            new CreateIndexModel<UserLabelDocument>(Builders<UserLabelDocument>.IndexKeys.Ascending(t => t.UserId).Ascending(t => t.Kind)), cancellationToken: cancellationToken));

    public async Task<IReadOnlyList<TorrentLabels>> ListTorrentLabelsAsync(string userId, CancellationToken cancellationToken) =>
        (await _torrentLabels.Find(d => d.UserId == userId).SortBy(d => d.InfoHash).ToListAsync(cancellationToken).ConfigureAwait(false))
            .Select(d => d.ToModel()).ToList();

    public async Task<TorrentLabels?> FindTorrentLabelsAsync(string userId, string infoHash, CancellationToken cancellationToken) =>
        (await _torrentLabels.Find(d => d.Id == TorrentLabelsDocument.Key(userId, infoHash)).FirstOrDefaultAsync(cancellationToken).ConfigureAwait(false))?.ToModel();

    public async Task SaveTorrentLabelsAsync(TorrentLabels labels, CancellationToken cancellationToken)
    {
        if (labels.IsEmpty)
        {
            await DeleteTorrentLabelsAsync(labels.UserId, labels.InfoHash, cancellationToken).ConfigureAwait(false);
            return;
        }
        var document = TorrentLabelsDocument.From(labels);
        await _torrentLabels.ReplaceOneAsync(d => d.Id == document.Id, document, new ReplaceOptions { IsUpsert = true }, cancellationToken).ConfigureAwait(false);
    }

    public Task DeleteTorrentLabelsAsync(string userId, string infoHash, CancellationToken cancellationToken) =>
        _torrentLabels.DeleteOneAsync(d => d.Id == TorrentLabelsDocument.Key(userId, infoHash), cancellationToken);

    public async Task<IReadOnlyList<UserLabel>> ListUserLabelsAsync(string userId, string? kind, CancellationToken cancellationToken)
    {
        var filter = kind is null
            ? Builders<UserLabelDocument>.Filter.Eq(d => d.UserId, userId)
            : Builders<UserLabelDocument>.Filter.Eq(d => d.UserId, userId) & Builders<UserLabelDocument>.Filter.Eq(d => d.Kind, kind);
        var documents = await _userLabels.Find(filter).ToListAsync(cancellationToken).ConfigureAwait(false);
        return documents.OrderBy(d => d.Kind, StringComparer.Ordinal).ThenBy(d => d.Name, StringComparer.Ordinal)
            .Select(d => new UserLabel(d.UserId, d.Kind, d.Name, d.Value)).ToList();
    }

    public async Task<bool> TryAddUserLabelAsync(UserLabel label, CancellationToken cancellationToken)
    {
        try
        {
            await _userLabels.InsertOneAsync(UserLabelDocument.From(label), cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (MongoWriteException e) when (e.WriteError.Category == ServerErrorCategory.DuplicateKey)
        {
            return false;
        }
    }

    public Task SaveUserLabelAsync(UserLabel label, CancellationToken cancellationToken)
    {
        var document = UserLabelDocument.From(label);
        return _userLabels.ReplaceOneAsync(d => d.Id == document.Id, document, new ReplaceOptions { IsUpsert = true }, cancellationToken);
    }

    public async Task<bool> DeleteUserLabelAsync(string userId, string kind, string name, CancellationToken cancellationToken) =>
        (await _userLabels.DeleteOneAsync(d => d.Id == UserLabelDocument.Key(userId, kind, name), cancellationToken).ConfigureAwait(false)).DeletedCount == 1;
}

internal sealed class TorrentLabelsDocument
{
    [BsonId] public string Id { get; set; } = "";
    public string UserId { get; set; } = "";
    public string InfoHash { get; set; } = "";
    public string Category { get; set; } = "";
    public List<string> Tags { get; set; } = [];
    public double RatioLimit { get; set; }
    public long SeedingTimeLimit { get; set; }
    public long InactiveSeedingTimeLimit { get; set; }
    public bool SequentialDownload { get; set; }
    public bool FirstLastPiecePriority { get; set; }
    public bool ForceStart { get; set; }

    public static string Key(string userId, string infoHash) => userId + "\n" + infoHash;

    public static TorrentLabelsDocument From(TorrentLabels l) => new()
    {
        Id = Key(l.UserId, l.InfoHash), UserId = l.UserId, InfoHash = l.InfoHash, Category = l.Category, Tags = [.. l.Tags],
        RatioLimit = l.RatioLimit, SeedingTimeLimit = l.SeedingTimeLimit, InactiveSeedingTimeLimit = l.InactiveSeedingTimeLimit,
        SequentialDownload = l.SequentialDownload, FirstLastPiecePriority = l.FirstLastPiecePriority, ForceStart = l.ForceStart,
    };

    public TorrentLabels ToModel() => new()
    {
        UserId = UserId, InfoHash = InfoHash, Category = Category, Tags = [.. Tags], RatioLimit = RatioLimit, SeedingTimeLimit = SeedingTimeLimit,
        InactiveSeedingTimeLimit = InactiveSeedingTimeLimit, SequentialDownload = SequentialDownload,
        FirstLastPiecePriority = FirstLastPiecePriority, ForceStart = ForceStart,
    };
}

internal sealed class UserLabelDocument
{
    [BsonId] public string Id { get; set; } = "";
    public string UserId { get; set; } = "";
    public string Kind { get; set; } = "";
    public string Name { get; set; } = "";
    public string? Value { get; set; }

    public static string Key(string userId, string kind, string name) => userId + "\n" + kind + "\n" + name;

    public static UserLabelDocument From(UserLabel l) => new() { Id = Key(l.UserId, l.Kind, l.Name), UserId = l.UserId, Kind = l.Kind, Name = l.Name, Value = l.Value };
}
