using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using TorrentEdge.Catalog.Model;

namespace TorrentEdge.Catalog.Apis.QBittorrent;

/// <summary>
/// sync/maindata: the first answer (rid 0, or a rid this replica does not remember) is a full update; later ones carry
/// only what changed since the answer whose rid the client sends back, field by field, with removed torrents,
/// categories and tags listed apart. Remembered snapshots are per user, the last few, in memory.
/// </summary>
internal static class QBittorrentSync
{
    private const int SnapshotsPerUser = 4;
    private const int MaxUsers = 1024;

    private sealed record Snapshot(long Rid, Dictionary<string, JsonObject> Torrents, Dictionary<string, JsonObject> Categories,
        HashSet<string> Tags, JsonObject ServerState);

    private static readonly ConcurrentDictionary<string, Snapshot[]> Remembered = new(StringComparer.Ordinal);
    private static long _lastRid;

    public static async Task<IResult> MainDataAsync(QBittorrentRequest request)
    {
        var userId = request.UserId;
        var clients = request.Torrents;
        var now = request.Context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var torrents = await clients.ListAsync(userId, request.Aborted);
        var labels = await clients.Store.ListUserLabelsAsync(userId, null, request.Aborted);
        var current = new Snapshot(
            Interlocked.Increment(ref _lastRid),
            torrents.ToDictionary(t => t.InfoHash, t =>
            {
                var info = QBittorrentStates.Serialize(t, userId, clients, now);
                info.Remove("hash");
                return info;
            }, StringComparer.Ordinal),
            labels.Where(l => l.Kind == UserLabelKinds.Category)
                .ToDictionary(l => l.Name, l => new JsonObject { ["name"] = l.Name, ["savePath"] = "" }, StringComparer.Ordinal),
            labels.Where(l => l.Kind == UserLabelKinds.Tag).Select(l => l.Name).ToHashSet(StringComparer.Ordinal),
            new JsonObject
            {
                ["dl_info_speed"] = torrents.Sum(t => t.Torrent.Status.DownloadRate),
                ["up_info_speed"] = torrents.Sum(t => t.Torrent.Status.UploadRate),
                ["dl_info_data"] = torrents.Sum(t => t.Torrent.Status.DownloadedBytes),
                ["up_info_data"] = torrents.Sum(t => t.Torrent.Status.UploadedBytes),
                ["connection_status"] = "connected",
                ["dht_nodes"] = 0,
                ["queueing"] = true,
                ["use_alt_speed_limits"] = false,
                ["refresh_interval"] = 1500,
            });

        long.TryParse(request["rid"], out var rid);
        var previous = rid > 0 && Remembered.TryGetValue(userId, out var kept) ? Array.Find(kept, s => s.Rid == rid) : null;
        Remember(userId, current);
        var result = new JsonObject { ["rid"] = current.Rid };
        if (previous is null)
        {
            result["full_update"] = true;
            result["torrents"] = new JsonObject(current.Torrents.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value.DeepClone())));
            result["categories"] = new JsonObject(current.Categories.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value.DeepClone())));
            result["tags"] = new JsonArray([.. current.Tags.Order(StringComparer.Ordinal).Select(t => (JsonNode?)t)]);
            result["server_state"] = current.ServerState.DeepClone();
            result["trackers"] = new JsonObject();
            return QBittorrentApi.Json(result);
        }

        var changedTorrents = new JsonObject();
        foreach (var (hash, info) in current.Torrents)
        {
            var diff = previous.Torrents.TryGetValue(hash, out var before) ? Diff(before, info) : (JsonObject)info.DeepClone();
            if (diff.Count > 0)
            {
                changedTorrents[hash] = diff;
            }
        }
        if (changedTorrents.Count > 0)
        {
            result["torrents"] = changedTorrents;
        }
        var removed = previous.Torrents.Keys.Where(h => !current.Torrents.ContainsKey(h)).ToList();
        if (removed.Count > 0)
        {
            result["torrents_removed"] = new JsonArray([.. removed.Select(h => (JsonNode?)h)]);
        }
        var newCategories = current.Categories.Where(p => !previous.Categories.ContainsKey(p.Key)).ToList();
        if (newCategories.Count > 0)
        {
            result["categories"] = new JsonObject(newCategories.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value.DeepClone())));
        }
        var removedCategories = previous.Categories.Keys.Where(c => !current.Categories.ContainsKey(c)).ToList();
        if (removedCategories.Count > 0)
        {
            result["categories_removed"] = new JsonArray([.. removedCategories.Select(c => (JsonNode?)c)]);
        }
        var newTags = current.Tags.Except(previous.Tags).ToList();
        if (newTags.Count > 0)
        {
            result["tags"] = new JsonArray([.. newTags.Select(t => (JsonNode?)t)]);
        }
        var removedTags = previous.Tags.Except(current.Tags).ToList();
        if (removedTags.Count > 0)
        {
            result["tags_removed"] = new JsonArray([.. removedTags.Select(t => (JsonNode?)t)]);
        }
        var serverState = Diff(previous.ServerState, current.ServerState);
        if (serverState.Count > 0)
        {
            result["server_state"] = serverState;
        }
        return QBittorrentApi.Json(result);
    }

    /// <summary>The fields of <paramref name="after"/> whose values differ from <paramref name="before"/>'s.</summary>
    private static JsonObject Diff(JsonObject before, JsonObject after)
    {
        var diff = new JsonObject();
        foreach (var (key, value) in after)
        {
            if (!before.TryGetPropertyValue(key, out var old) || !JsonNode.DeepEquals(old, value))
            {
                diff[key] = value?.DeepClone();
            }
        }
        return diff;
    }

    private static void Remember(string userId, Snapshot snapshot)
    {
        if (Remembered.Count >= MaxUsers && !Remembered.ContainsKey(userId))
        {
            Remembered.Clear();
        }
        Remembered.AddOrUpdate(userId, [snapshot], (_, kept) => [.. kept.TakeLast(SnapshotsPerUser - 1), snapshot]);
    }
}
