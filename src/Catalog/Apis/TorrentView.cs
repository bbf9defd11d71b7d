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
    string? SavePath,
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

    /// <param name="showOwners">Owners are shown to admins only: users do not learn who else downloads something.</param>
    public static TorrentView From(CatalogTorrent t, bool showOwners)
    {
        var s = t.Status;
        var files = t.Files.Select((f, i) => new TorrentFileView(
            i,
            f.Path,
            f.Length,
            f.Length == 0 ? 1 : i < s.FileVerifiedBytes.Count ? Math.Min(1, (double)s.FileVerifiedBytes[i] / f.Length) : 0,
            i < t.FilePriorities.Count ? t.FilePriorities[i] : FilePriority.Normal)).ToList();
        var reportedTrackers = s.Trackers.ToDictionary(x => x.Url, StringComparer.Ordinal);
        var trackers = t.Trackers.Select(url => reportedTrackers.Remove(url, out var r)
                ? new TrackerView(url, r.Health, r.Seeders, r.Leechers, r.LastError)
                : new TrackerView(url, "unknown", 0, 0, null))
            .Concat(reportedTrackers.Values.Select(r => new TrackerView(r.Url, r.Health, r.Seeders, r.Leechers, r.LastError)))
            .ToList();
        // Ratio against what was downloaded, or the size once complete (a seeder that downloaded nothing still has a ratio).
        var basis = Math.Max(s.DownloadedBytes, s.Progress >= 1 ? t.TotalBytes : 0);
        var ratio = basis > 0 ? Math.Round((double)s.UploadedBytes / basis, 3) : 0;
        return new TorrentView(
            t.InfoHash, t.Name, t.TotalBytes, t.AddedAt, t.EffectiveState, s.Progress, s.DownloadRate, s.UploadRate,
            s.DownloadedBytes, s.UploadedBytes, s.PeersConnected, s.PeersTotal, ratio, s.EtaSeconds, t.Paused, t.Priority,
            t.SavePath, t.Metainfo is not null, t.MagnetUri, files, trackers, s.Error,
            showOwners ? t.Owners.Select(o => o.UserId).ToList() : null, s.UpdatedAt, s.WorkerId);
    }
}

public sealed record TorrentFileView(int Index, string Path, long Length, double Progress, FilePriority Priority);

public sealed record TrackerView(string Url, string Health, int Seeders, int Leechers, string? LastError);

public sealed record TorrentListView(IReadOnlyList<TorrentView> Items, long Total, int Page, int PageSize);
