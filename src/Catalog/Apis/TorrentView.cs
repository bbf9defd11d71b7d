using TorrentEdge.Catalog.Model;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Apis;

/// <summary>
/// A torrent as the API shows it: desired state and the last status projected from torrent-events, with the PeerWorker
/// replica that reported it last (<see cref="WorkerId"/>: which replica runs it, for operators and tests).
/// </summary>
public sealed record TorrentView(
    string InfoHash,
    string? Name,
    long TotalBytes,
    DateTimeOffset AddedAt,
    TorrentState State,
    double Progress,
    long DownloadRate,
    long UploadRate,
    long DownloadedBytes,
    long UploadedBytes,
    int PeersConnected,
    int PeersTotal,
    double Ratio,
    long? EtaSeconds,
    bool Paused,
    TorrentPriority Priority,
    bool MetainfoAvailable,
    string? MagnetUri,
    IReadOnlyList<TorrentFileView> Files,
    IReadOnlyList<TrackerView> Trackers,
    string? Error,
    IReadOnlyList<string>? Owners,
    DateTimeOffset? StatusUpdatedAt,
    string? WorkerId)
{
    /// <summary>The caller's category of the torrent (empty: none); per user, like <see cref="Tags"/> (LabelsApi).</summary>
    public string? Category { get; init; }

    /// <summary>The caller's tags of the torrent (Transmission's labels).</summary>
    public IReadOnlyList<string>? Tags { get; init; }

    /// <summary>
    /// Message stream encryption with peers: the caller's own override (an admin who does not own it: the download's);
    /// null: the worker's setting.
    /// </summary>
    public PeerEncryption? Encryption { get; init; }

    /// <summary>The download as a service or test sees it, without anyone's trackers, magnet or save path.</summary>
    public static TorrentView From(CatalogTorrent t, bool showOwners) => From(t, viewerId: null, showOwners);

    /// <summary>
    /// The torrent as <paramref name="viewerId"/> sees it. An owner sees their own view of a shared download: their pause,
    /// priorities, name, save path, magnet and trackers (never another owner's, which may hold passkeys), and the
    /// download's progress and rates. An admin who does not own it sees the download itself, with the owner ids, tracker
    /// URLs cut to their origin (scheme, host and port), and no magnet or save path.
    /// </summary>
    /// <param name="isAdmin">Owners are shown to admins only: users do not learn who else downloads something.</param>
    public static TorrentView From(CatalogTorrent t, string? viewerId, bool isAdmin)
    {
        var s = t.Status;
        var own = viewerId is null ? null : t.FindOwner(viewerId)?.Wishes;
        var filePriorities = own?.FilePriorities ?? t.FilePriorities;
        var files = t.Files.Select((f, i) => new TorrentFileView(
            i,
            f.Path,
            f.Length,
            f.Length == 0 ? 1 : i < s.FileVerifiedBytes.Count ? Math.Min(1, (double)s.FileVerifiedBytes[i] / f.Length) : 0,
            i < filePriorities.Count ? filePriorities[i] : FilePriority.Normal)).ToList();
        var reportedTrackers = s.Trackers.ToDictionary(x => x.Url, StringComparer.Ordinal);
        var trackers = own is not null
            // Only the owner's own trackers, with what the worker reported for each; the download may announce to others.
            ? own.Trackers.Select(url => reportedTrackers.TryGetValue(url, out var r)
                ? new TrackerView(url, r.Health, r.Seeders, r.Leechers, r.LastError)
                : new TrackerView(url, "unknown", 0, 0, null)).ToList()
            : t.Trackers.Select(url => reportedTrackers.Remove(url, out var r)
                    ? new TrackerView(Origin(url), r.Health, r.Seeders, r.Leechers, null)
                    : new TrackerView(Origin(url), "unknown", 0, 0, null))
                .Concat(reportedTrackers.Values.Select(r => new TrackerView(Origin(r.Url), r.Health, r.Seeders, r.Leechers, null)))
                .ToList();
        // Ratio against what was downloaded, or the size once complete (a seeder that downloaded nothing still has a ratio).
        var basis = Math.Max(s.DownloadedBytes, s.Progress >= 1 ? t.TotalBytes : 0);
        var ratio = basis > 0 ? Math.Round((double)s.UploadedBytes / basis, 3) : 0;
        var state = own is { Paused: true } && t.EffectiveState != TorrentState.Error ? TorrentState.Paused : t.EffectiveState;
        return new TorrentView(
            t.InfoHash, own?.Name ?? t.Name, t.TotalBytes, t.AddedAt, state, s.Progress, s.DownloadRate, s.UploadRate,
            s.DownloadedBytes, s.UploadedBytes, s.PeersConnected, s.PeersTotal, ratio, s.EtaSeconds, own?.Paused ?? t.Paused,
            own?.Priority ?? t.Priority, t.Metainfo is not null, own?.MagnetUri, files, trackers,
            // A tracker's error text can quote its URL; only an owner's own trackers keep theirs (above).
            s.Error,
            isAdmin ? t.Owners.Select(o => o.UserId).ToList() : null, s.UpdatedAt, s.WorkerId)
        {
            Encryption = own is not null ? own.Encryption : t.MergedEncryption(),
        };
    }

    /// <summary>A tracker URL without its path, query or user info, where passkeys live.</summary>
    internal static string Origin(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Host.Length > 0
            ? $"{uri.Scheme}://{uri.Host}{(uri.IsDefaultPort ? "" : ":" + uri.Port)}"
            : "(tracker)";
}

public sealed record TorrentFileView(int Index, string Path, long Length, double Progress, FilePriority Priority);

public sealed record TrackerView(string Url, string Health, int Seeders, int Leechers, string? LastError);

public sealed record TorrentListView(IReadOnlyList<TorrentView> Items, long Total, int Page, int PageSize);
