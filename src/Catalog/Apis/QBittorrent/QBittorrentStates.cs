using System.Text.Json.Nodes;
using TorrentEdge.Catalog.Apis.Compat;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Apis.QBittorrent;

/// <summary>Our torrents in qBittorrent's terms: its state names, sentinels, filters, priorities and torrent fields.</summary>
internal static class QBittorrentStates
{
    /// <summary>qBittorrent's "infinite" ETA (100 days), which it reports whenever there is nothing to wait for.</summary>
    public const long InfiniteEta = 8_640_000;

    /// <summary>
    /// qBittorrent 5 state names (stoppedUP/stoppedDL, not 4.x's pausedUP/pausedDL: the reported version is 5.1).
    /// Seeding with upload traffic is <c>uploading</c>, without it <c>stalledUP</c>; downloading likewise.
    /// </summary>
    public static string State(ClientTorrent t)
    {
        var torrent = t.Torrent;
        var s = torrent.Status;
        var complete = t.Complete;
        var forced = t.Labels.ForceStart;
        if (t.Own.Paused || torrent.EffectiveState is TorrentState.Paused or TorrentState.Stopped)
        {
            return complete ? "stoppedUP" : "stoppedDL";
        }
        return torrent.EffectiveState switch
        {
            TorrentState.Error => "error",
            TorrentState.FetchingMetadata => forced ? "forcedMetaDL" : "metaDL",
            TorrentState.Checking => complete ? "checkingUP" : "checkingDL",
            TorrentState.Queued => complete ? "queuedUP" : "queuedDL",
            TorrentState.Seeding => forced ? "forcedUP" : s.UploadRate > 0 ? "uploading" : "stalledUP",
            TorrentState.Downloading when complete => forced ? "forcedUP" : s.UploadRate > 0 ? "uploading" : "stalledUP",
            TorrentState.Downloading => forced ? "forcedDL" : s.DownloadRate > 0 ? "downloading" : "stalledDL",
            _ => "unknown",
        };
    }

    /// <summary>Seconds to completion, or <see cref="InfiniteEta"/> when complete, stopped or unknown (as qBittorrent does).</summary>
    public static long Eta(ClientTorrent t) =>
        !t.Complete && !t.Own.Paused && t.Torrent.Status.EtaSeconds is { } eta && eta >= 0 && eta < InfiniteEta ? eta : InfiniteEta;

    /// <summary>
    /// When the download completed, in Unix seconds, or -1. Catalog keeps no completion time; the last status update of a
    /// complete torrent is the closest it has (exact while the torrent is seeding idle, later otherwise).
    /// </summary>
    public static long CompletionOn(ClientTorrent t) =>
        t.Complete ? (t.Torrent.Status.UpdatedAt ?? t.Torrent.AddedAt).ToUnixTimeSeconds() : -1;

    /// <summary>
    /// Seconds seeded: what the status projection counts from the states the events report (the figure share limits are
    /// enforced against, kept across workers); for a torrent projected before that count existed, since
    /// <see cref="CompletionOn"/>.
    /// </summary>
    public static long SeedingSeconds(ClientTorrent t, DateTimeOffset now)
    {
        var status = t.Torrent.Status;
        if (status.SeedingSince is not null || status.SeededSeconds > 0)
        {
            return status.SeedingSeconds(now);
        }
        return t.Complete ? Math.Max(0, now.ToUnixTimeSeconds() - CompletionOn(t)) : 0;
    }

    public static int ToQbtPriority(FilePriority priority) => priority switch
    {
        FilePriority.Skip => 0,
        FilePriority.High => 6,
        _ => 1,
    };

    /// <summary>qBittorrent's file priorities 0 (do not download), 1 (normal), 6 (high), 7 (maximal); others are invalid.</summary>
    public static FilePriority? FromQbtPriority(int value) => value switch
    {
        0 => FilePriority.Skip,
        1 => FilePriority.Normal,
        6 or 7 => FilePriority.High,
        _ => null,
    };

    /// <summary>qBittorrent's <c>filter</c> values of torrents/info (both generations' names).</summary>
    public static bool MatchesFilter(ClientTorrent t, string filter)
    {
        var state = State(t);
        var s = t.Torrent.Status;
        var stopped = state.StartsWith("stopped", StringComparison.Ordinal);
        return filter switch
        {
            "all" => true,
            "downloading" => state is "downloading" or "metaDL" or "forcedMetaDL" or "stalledDL" or "checkingDL" or "forcedDL" or "queuedDL" or "stoppedDL",
            "seeding" => state is "uploading" or "forcedUP" or "stalledUP" or "queuedUP" or "checkingUP",
            "completed" => t.Complete,
            "paused" or "stopped" => stopped,
            "resumed" or "running" => !stopped,
            "active" => s.DownloadRate > 0 || s.UploadRate > 0,
            "inactive" => s.DownloadRate == 0 && s.UploadRate == 0,
            "stalled" => state is "stalledUP" or "stalledDL",
            "stalled_uploading" => state == "stalledUP",
            "stalled_downloading" => state == "stalledDL",
            "checking" => state is "checkingUP" or "checkingDL" or "checkingResumeData",
            "moving" => state == "moving",
            "errored" => state is "error" or "missingFiles",
            _ => true,
        };
    }

    /// <summary>One torrent as torrents/info lists it (qBittorrent 5.1's serialize_torrent fields).</summary>
    public static JsonObject Serialize(ClientTorrent t, string userId, ClientTorrents clients, DateTimeOffset now)
    {
        var torrent = t.Torrent;
        var s = torrent.Status;
        var added = t.AddedAt(userId).ToUnixTimeSeconds();
        var complete = t.Complete;
        var wanted = t.WantedBytes;
        var completed = complete ? wanted : Math.Min(wanted, s.VerifiedBytes);
        var seeders = s.Trackers.Count == 0 ? 0 : s.Trackers.Max(x => x.Seeders);
        var leechers = s.Trackers.Count == 0 ? 0 : s.Trackers.Max(x => x.Leechers);
        var active = s.DownloadRate > 0 || s.UploadRate > 0;
        return new JsonObject
        {
            ["hash"] = t.InfoHash,
            ["infohash_v1"] = t.InfoHash,
            ["infohash_v2"] = "",
            ["name"] = torrent.Name ?? t.InfoHash,
            ["magnet_uri"] = torrent.MagnetUri ?? $"magnet:?xt=urn:btih:{t.InfoHash}",
            ["size"] = wanted,
            ["total_size"] = torrent.TotalBytes,
            ["progress"] = complete ? 1.0 : s.Progress,
            ["dlspeed"] = s.DownloadRate,
            ["upspeed"] = s.UploadRate,
            ["priority"] = s.QueuePosition is { } position ? position + 1 : 0,
            // We count connected peers, not seeds and leechers apart: they are seeds while we download, leechers after.
            ["num_seeds"] = complete ? 0 : s.PeersConnected,
            ["num_complete"] = seeders,
            ["num_leechs"] = complete ? s.PeersConnected : 0,
            ["num_incomplete"] = leechers,
            ["state"] = State(t),
            ["eta"] = Eta(t),
            ["seq_dl"] = t.Labels.SequentialDownload,
            ["f_l_piece_prio"] = t.Labels.FirstLastPiecePriority,
            ["category"] = t.Labels.Category,
            ["tags"] = string.Join(", ", t.Labels.Tags),
            ["super_seeding"] = false,
            ["force_start"] = t.Labels.ForceStart,
            ["save_path"] = clients.SavePath(t),
            ["download_path"] = "",
            ["content_path"] = clients.ContentPath(t),
            ["root_path"] = torrent.Files.Count > 1 ? clients.ContentPath(t) : "",
            ["added_on"] = added,
            ["completion_on"] = CompletionOn(t),
            ["tracker"] = s.Trackers.FirstOrDefault(x => x.LastError is null)?.Url ?? "",
            ["trackers_count"] = torrent.Trackers.Count,
            ["dl_limit"] = -1,
            ["up_limit"] = -1,
            ["downloaded"] = s.DownloadedBytes,
            ["uploaded"] = s.UploadedBytes,
            ["downloaded_session"] = s.DownloadedBytes,
            ["uploaded_session"] = s.UploadedBytes,
            ["amount_left"] = t.LeftBytes,
            ["completed"] = completed,
            ["max_ratio"] = t.Labels.RatioLimit >= 0 ? t.Labels.RatioLimit : -1,
            ["max_seeding_time"] = t.Labels.SeedingTimeLimit >= 0 ? t.Labels.SeedingTimeLimit : -1,
            ["max_inactive_seeding_time"] = t.Labels.InactiveSeedingTimeLimit >= 0 ? t.Labels.InactiveSeedingTimeLimit : -1,
            ["ratio"] = t.Ratio,
            ["ratio_limit"] = t.Labels.RatioLimit,
            ["popularity"] = 0,
            ["seeding_time_limit"] = t.Labels.SeedingTimeLimit,
            ["inactive_seeding_time_limit"] = t.Labels.InactiveSeedingTimeLimit,
            ["last_seen_complete"] = complete ? now.ToUnixTimeSeconds() : -1,
            ["auto_tmm"] = false,
            ["time_active"] = Math.Max(0, now.ToUnixTimeSeconds() - added),
            ["seeding_time"] = SeedingSeconds(t, now),
            ["last_activity"] = active ? now.ToUnixTimeSeconds() : (s.UpdatedAt ?? t.AddedAt(userId)).ToUnixTimeSeconds(),
            ["availability"] = -1,
            ["reannounce"] = 0,
            ["comment"] = "",
            ["private"] = torrent.Metainfo is null ? null : false,
            ["has_metadata"] = torrent.Metainfo is not null,
        };
    }
}
