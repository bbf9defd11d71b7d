using System.Globalization;
using System.Text.Json.Nodes;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.Model;

namespace TorrentEdge.Catalog.Apis.QBittorrent;

/// <summary>
/// The preferences a user may set through app/setPreferences, kept per user as <see cref="UserLabelKinds.Preference"/>
/// labels. Everything else in app/preferences describes the service and is the same for everyone; setting it is ignored,
/// as qBittorrent ignores keys it does not know.
/// </summary>
public sealed record QBittorrentPreferences(
    bool MaxRatioEnabled, double MaxRatio, bool MaxSeedingTimeEnabled, long MaxSeedingTime,
    bool MaxInactiveSeedingTimeEnabled, long MaxInactiveSeedingTime, bool QueueingEnabled)
{
    // Off by default (TorrentEdge keeps seeding until told otherwise); when a user turns them on, ShareLimitEnforcer pauses
    // torrents that reach them: max_ratio_act 0 (stop), so media managers do not expect the client to delete downloads.
    private static readonly QBittorrentPreferences Defaults = new(false, -1, false, -1, false, -1, true);

    public static readonly IReadOnlySet<string> Settable = new HashSet<string>(StringComparer.Ordinal)
    {
        "max_ratio_enabled", "max_ratio", "max_seeding_time_enabled", "max_seeding_time",
        "max_inactive_seeding_time_enabled", "max_inactive_seeding_time", "queueing_enabled",
    };

    internal static async Task<QBittorrentPreferences> LoadAsync(ICatalogStore store, string userId, CancellationToken cancellationToken)
    {
        var stored = (await store.ListUserLabelsAsync(userId, UserLabelKinds.Preference, cancellationToken))
            .ToDictionary(l => l.Name, l => l.Value ?? "", StringComparer.Ordinal);
        bool Bool(string key, bool fallback) => stored.TryGetValue(key, out var v) && bool.TryParse(v, out var b) ? b : fallback;
        double Double(string key, double fallback) => stored.TryGetValue(key, out var v) && double.TryParse(v, CultureInfo.InvariantCulture, out var d) ? d : fallback;
        long Long(string key, long fallback) => stored.TryGetValue(key, out var v) && long.TryParse(v, CultureInfo.InvariantCulture, out var l) ? l : fallback;
        return new QBittorrentPreferences(
            Bool("max_ratio_enabled", Defaults.MaxRatioEnabled), Double("max_ratio", Defaults.MaxRatio),
            Bool("max_seeding_time_enabled", Defaults.MaxSeedingTimeEnabled), Long("max_seeding_time", Defaults.MaxSeedingTime),
            Bool("max_inactive_seeding_time_enabled", Defaults.MaxInactiveSeedingTimeEnabled), Long("max_inactive_seeding_time", Defaults.MaxInactiveSeedingTime),
            Bool("queueing_enabled", Defaults.QueueingEnabled));
    }

    /// <summary>Stores the settable keys of <paramref name="changes"/> whose values have the right type; ignores the rest.</summary>
    internal static async Task SaveAsync(ICatalogStore store, string userId, JsonObject changes, CancellationToken cancellationToken)
    {
        foreach (var (key, value) in changes)
        {
            if (!Settable.Contains(key) || value is not JsonValue v)
            {
                continue;
            }
            string? text = key.EndsWith("_enabled", StringComparison.Ordinal)
                ? v.TryGetValue<bool>(out var b) ? (b ? "true" : "false") : null
                : double.TryParse(v.ToJsonString(), CultureInfo.InvariantCulture, out var d) ? d.ToString(CultureInfo.InvariantCulture) : null;
            if (text is not null)
            {
                await store.SaveUserLabelAsync(new UserLabel(userId, UserLabelKinds.Preference, key, text), cancellationToken);
            }
        }
    }

    /// <summary>app/preferences: what media managers read (save_path, share limits, queueing, DHT) and the usual companions.</summary>
    internal JsonObject ToJson(string downloadRoot) => new()
    {
        ["locale"] = "en",
        ["save_path"] = downloadRoot,
        ["temp_path_enabled"] = false,
        ["temp_path"] = "",
        ["auto_tmm_enabled"] = false,
        ["create_subfolder_enabled"] = true,
        ["torrent_content_layout"] = "Original",
        ["add_stopped_enabled"] = false,
        ["start_paused_enabled"] = false,
        ["max_ratio_enabled"] = MaxRatioEnabled,
        ["max_ratio"] = MaxRatio,
        ["max_seeding_time_enabled"] = MaxSeedingTimeEnabled,
        ["max_seeding_time"] = MaxSeedingTime,
        ["max_inactive_seeding_time_enabled"] = MaxInactiveSeedingTimeEnabled,
        ["max_inactive_seeding_time"] = MaxInactiveSeedingTime,
        ["max_ratio_act"] = 0,
        ["queueing_enabled"] = QueueingEnabled,
        ["max_active_downloads"] = -1,
        ["max_active_torrents"] = -1,
        ["max_active_uploads"] = -1,
        // Our engine has no DHT, PeX or LSD: peers come from trackers (and x.pe in magnets).
        ["dht"] = false,
        ["pex"] = false,
        ["lsd"] = false,
        ["dl_limit"] = 0,
        ["up_limit"] = 0,
        ["web_ui_username"] = "",
        ["bypass_local_auth"] = false,
    };
}
