using TorrentEdge.Catalog.Model;

namespace TorrentEdge.Catalog.Infrastructure;

/// <summary>
/// Per-user labels apart from the torrent documents: each user's category, tags and client settings of a torrent
/// (<see cref="TorrentLabels"/>), and the categories, tags and preferences a user keeps (<see cref="UserLabel"/>).
/// </summary>
/// <remarks>Part of <see cref="ICatalogStore"/>; the same contract suite covers SQLite and MongoDB.</remarks>
public interface ITorrentLabelStore
{
    /// <summary>Every labels record of a user.</summary>
    Task<IReadOnlyList<TorrentLabels>> ListTorrentLabelsAsync(string userId, CancellationToken cancellationToken);

    Task<TorrentLabels?> FindTorrentLabelsAsync(string userId, string infoHash, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces the record of (user, info-hash); an empty record is deleted instead.</summary>
    Task SaveTorrentLabelsAsync(TorrentLabels labels, CancellationToken cancellationToken);

    Task DeleteTorrentLabelsAsync(string userId, string infoHash, CancellationToken cancellationToken);

    /// <summary>A user's labels of one kind (or of every kind when <paramref name="kind"/> is null), by name.</summary>
    Task<IReadOnlyList<UserLabel>> ListUserLabelsAsync(string userId, string? kind, CancellationToken cancellationToken);

    /// <summary>Adds a label; false when (user, kind, name) exists already.</summary>
    Task<bool> TryAddUserLabelAsync(UserLabel label, CancellationToken cancellationToken);

    /// <summary>Inserts or replaces a label.</summary>
    Task SaveUserLabelAsync(UserLabel label, CancellationToken cancellationToken);

    /// <summary>Removes a label; false when there was none.</summary>
    Task<bool> DeleteUserLabelAsync(string userId, string kind, string name, CancellationToken cancellationToken);
}
