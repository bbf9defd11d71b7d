using System.Text.Json.Nodes;
using TorrentEdge.Catalog.Apis.Compat;
using TorrentEdge.Catalog.Apis.QBittorrent;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Apis.Transmission;

/// <summary>The torrent-get fields of one torrent, by snake_case name, with Transmission's status codes and sentinels.</summary>
internal sealed class TransmissionFields(ClientTorrent t, string userId, ClientTorrents clients, QBittorrentPreferences preferences, DateTimeOffset now, bool jsonRpc)
{
    /// <summary>tr_stat's eta: -1 when not downloading (TR_ETA_NOT_AVAIL), -2 when the rate gives no estimate (TR_ETA_UNKNOWN).</summary>
    public const long EtaNotAvailable = -1;
    public const long EtaUnknown = -2;

    /// <summary>
    /// Transmission's status: 0 stopped, 1 queued to verify, 2 verifying, 3 queued to download, 4 downloading, 5 queued
    /// to seed, 6 seeding. An errored torrent is stopped (0) with errorString set, as in Transmission.
    /// </summary>
    public static int Status(ClientTorrent t)
    {
        if (t.Own.Paused || t.Torrent.EffectiveState is TorrentState.Paused or TorrentState.Stopped or TorrentState.Error)
        {
            return 0;
        }
        return t.Torrent.EffectiveState switch
        {
            TorrentState.Checking => 2,
            TorrentState.Queued => t.Complete ? 5 : 3,
            TorrentState.Seeding => 6,
            _ when t.Complete => 6,
            _ => 4,
        };
    }

    public static long Eta(ClientTorrent t) => Status(t) != 4
        ? EtaNotAvailable
        : t.Torrent.Status.EtaSeconds is { } eta && eta >= 0 ? eta : EtaUnknown;

    private string Key(string snake) => jsonRpc ? snake : TransmissionNames.ToCamel(snake);

    public JsonNode? Get(string field)
    {
        var torrent = t.Torrent;
        var s = torrent.Status;
        var labels = t.Labels;
        var complete = t.Complete;
        var completedAt = QBittorrentStates.CompletionOn(t);
        return field switch
        {
            "id" => TransmissionRpcApi.TorrentId(t.InfoHash),
            "hash_string" => t.InfoHash,
            "name" => torrent.Name ?? t.InfoHash,
            // Where the content is: <root>/<info-hash>, so downloadDir + "/" + name is the torrent's top file or folder.
            "download_dir" => clients.SavePath(t),
            "total_size" => torrent.TotalBytes,
            "size_when_done" => t.WantedBytes,
            "left_until_done" => t.LeftBytes,
            "have_valid" => complete ? t.WantedBytes : s.VerifiedBytes,
            "percent_done" => complete ? 1.0 : s.Progress,
            "percent_complete" => complete ? 1.0 : s.Progress,
            "metadata_percent_complete" => torrent.Metainfo is null ? 0.0 : 1.0,
            // Transmission's isFinished: done and stopped (it reached its seed limit or was stopped once complete).
            "is_finished" => complete && t.Own.Paused,
            "is_stalled" => s.DownloadRate == 0 && s.UploadRate == 0 && Status(t) is 4 or 6,
            "eta" => Eta(t),
            "eta_idle" => EtaNotAvailable,
            "status" => Status(t),
            "error" => torrent.EffectiveState == TorrentState.Error ? 3 : 0,
            "error_string" => torrent.EffectiveState == TorrentState.Error ? s.Error ?? "error" : "",
            "rate_download" => s.DownloadRate,
            "rate_upload" => s.UploadRate,
            "uploaded_ever" => s.UploadedBytes,
            "downloaded_ever" => s.DownloadedBytes,
            "corrupt_ever" => 0,
            "upload_ratio" => t.Ratio,
            "added_date" => t.AddedAt(userId).ToUnixTimeSeconds(),
            "done_date" => completedAt < 0 ? 0 : completedAt,
            "activity_date" => (s.DownloadRate > 0 || s.UploadRate > 0 ? now : s.UpdatedAt ?? t.AddedAt(userId)).ToUnixTimeSeconds(),
            "start_date" => t.AddedAt(userId).ToUnixTimeSeconds(),
            "seconds_seeding" => QBittorrentStates.SeedingSeconds(t, now),
            "seconds_downloading" => Math.Max(0, (completedAt < 0 ? now.ToUnixTimeSeconds() : completedAt) - t.AddedAt(userId).ToUnixTimeSeconds()),
            // Modes: 0 the session's limit, 1 this torrent's, 2 unlimited (from qBittorrent's -2/-1 sentinels).
            "seed_ratio_limit" => labels.RatioLimit >= 0 ? labels.RatioLimit : preferences.MaxRatio >= 0 ? preferences.MaxRatio : 2.0,
            "seed_ratio_mode" => labels.RatioLimit >= 0 ? 1 : labels.RatioLimit == -1 ? 2 : 0,
            "seed_idle_limit" => labels.InactiveSeedingTimeLimit >= 0 ? labels.InactiveSeedingTimeLimit : preferences.MaxInactiveSeedingTime >= 0 ? preferences.MaxInactiveSeedingTime : 30,
            "seed_idle_mode" => labels.InactiveSeedingTimeLimit >= 0 ? 1 : labels.InactiveSeedingTimeLimit == -1 ? 2 : 0,
            "file_count" => torrent.Files.Count,
            "labels" => new JsonArray([.. labels.Tags.Select(l => (JsonNode?)l)]),
            "queue_position" => s.QueuePosition ?? 0,
            "bandwidth_priority" => t.Own.Priority switch { TorrentPriority.Low => -1, TorrentPriority.High => 1, _ => 0 },
            "peers_connected" => s.PeersConnected,
            "peers_getting_from_us" => complete ? s.PeersConnected : 0,
            "peers_sending_to_us" => complete ? 0 : s.PeersConnected,
            "sequential_download" => labels.SequentialDownload,
            "magnet_link" => torrent.MagnetUri ?? $"magnet:?xt=urn:btih:{t.InfoHash}",
            "is_private" => false,
            "comment" => "",
            "creator" => "",
            "date_created" => 0,
            "piece_count" => 0,
            "piece_size" => 0,
            "download_limit" => 0,
            "download_limited" => false,
            "upload_limit" => 0,
            "upload_limited" => false,
            "honors_session_limits" => true,
            "primary_mime_type" => "application/octet-stream",
            "files" => new JsonArray([.. torrent.Files.Select((f, i) => (JsonNode?)new JsonObject
            {
                [Key("bytes_completed")] = FileDone(i),
                [Key("length")] = f.Length,
                [Key("name")] = f.Path,
            })]),
            "file_stats" => new JsonArray([.. torrent.Files.Select((f, i) => (JsonNode?)new JsonObject
            {
                [Key("bytes_completed")] = FileDone(i),
                [Key("wanted")] = jsonRpc ? Priority(i) != FilePriority.Skip : (Priority(i) != FilePriority.Skip ? 1 : 0),
                [Key("priority")] = Priority(i) switch { FilePriority.Low => -1, FilePriority.High => 1, _ => 0 },
            })]),
            // Transmission 4.0.2+ sends wanted as 0/1 in the legacy protocol and as booleans in JSON-RPC.
            "wanted" => new JsonArray([.. torrent.Files.Select((_, i) => jsonRpc ? (JsonNode?)(Priority(i) != FilePriority.Skip) : (Priority(i) != FilePriority.Skip ? 1 : 0))]),
            "priorities" => new JsonArray([.. torrent.Files.Select((_, i) => (JsonNode?)(Priority(i) switch { FilePriority.Low => -1, FilePriority.High => 1, _ => 0 }))]),
            "trackers" => new JsonArray([.. torrent.Trackers.Select((url, i) => (JsonNode?)new JsonObject
            {
                [Key("announce")] = url, [Key("id")] = i, [Key("scrape")] = "", [Key("sitename")] = Host(url), [Key("tier")] = i,
            })]),
            "tracker_list" => string.Join("\n\n", torrent.Trackers),
            "tracker_stats" => new JsonArray([.. s.Trackers.Select((x, i) => (JsonNode?)new JsonObject
            {
                [Key("announce")] = x.Url, [Key("id")] = i, [Key("host")] = Host(x.Url), [Key("sitename")] = Host(x.Url), [Key("tier")] = i,
                [Key("seeder_count")] = x.Seeders, [Key("leecher_count")] = x.Leechers, [Key("last_announce_succeeded")] = x.LastError is null,
                [Key("last_announce_result")] = x.LastError ?? "Success",
            })]),
            "peers" => new JsonArray(),
            "webseeds" => new JsonArray(),
            _ => null,
        };
    }

    private FilePriority Priority(int i) => t.FilePriority(i);

    private long FileDone(int i)
    {
        var length = t.Torrent.Files[i].Length;
        var verified = t.Torrent.Status.FileVerifiedBytes;
        return t.Complete ? length : i < verified.Count ? Math.Min(length, verified[i]) : 0;
    }

    private static string Host(string url) => Uri.TryCreate(url, UriKind.Absolute, out var uri) ? uri.Host : "";
}
