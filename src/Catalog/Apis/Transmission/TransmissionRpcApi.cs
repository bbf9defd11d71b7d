using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using TorrentEdge.Catalog.Apis.Compat;
using TorrentEdge.Catalog.Apis.QBittorrent;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.Model;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Apis.Transmission;

/// <summary>
/// Transmission's RPC at <c>/transmission/rpc</c> on TorrentEdge's accounts: Basic auth (password or personal API
/// token), the 409 + <c>X-Transmission-Session-Id</c> handshake, and both spellings: the legacy protocol
/// (<c>{"method":"torrent-get","arguments":{...},"tag":n}</c>) and 4.1's JSON-RPC 2.0 in snake_case.
/// </summary>
public static partial class TransmissionRpcApi
{
    /// <summary>Transmission 4.1.1 (RPC 19, semver 6.0.1): labels (Sonarr uses them from 4.0) and both spellings.</summary>
    public const string Version = "4.1.1 (TorrentEdge)";
    public const int RpcVersion = 19;
    public const string RpcVersionSemver = "6.0.1";
    public const string SessionIdHeader = "X-Transmission-Session-Id";

    // JSON-RPC error codes of libtransmission/rpcimpl.h.
    private const int ParseError = -32700;
    private const int InvalidRequest = -32600;
    private const int MethodNotFound = -32601;
    private const int InvalidParams = -32602;
    private const int CorruptTorrent = 9;

    public static IEndpointRouteBuilder MapTransmissionRpc(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/transmission/rpc", [HttpMethods.Get, HttpMethods.Post], HandleAsync).AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> HandleAsync(HttpContext context, ClientAuthenticator authenticator, TransmissionSession session, ClientTorrents clients)
    {
        var outcome = await authenticator.AuthenticateAsync(context, sessionId: null);
        if (outcome.Principal is not { } user)
        {
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"Transmission\"";
            return Html(StatusCodes.Status401Unauthorized, "Unauthorized", "Unauthorized User");
        }
        var userId = user.GetUserId();
        if (!session.Matches(userId, context.Request.Headers[SessionIdHeader]))
        {
            var id = session.For(userId);
            context.Response.Headers[SessionIdHeader] = id;
            context.Response.Headers["X-Transmission-Rpc-Version"] = RpcVersionSemver;
            context.Response.Headers.AccessControlExposeHeaders = $"{SessionIdHeader}, X-Transmission-Rpc-Version";
            return Html(StatusCodes.Status409Conflict, "Conflict",
                $"<p>Your request had an invalid session_id header.</p><p>To fix this, follow these steps:<ol><li> When reading a response, get its {SessionIdHeader} header and remember it<li> Add the updated header to your outgoing requests<li> When you get this 409 error message, resend your request with the updated header</ol></p><p><code>{SessionIdHeader}: {id}</code></p>");
        }
        // A base64 .torrent within JSON is a third larger than the file.
        var limit = clients.MaxTorrentFileBytes / 3 * 4 + 64 * 1024;
        if (context.Request.ContentLength > limit)
        {
            return Html(StatusCodes.Status413PayloadTooLarge, "Payload Too Large", null);
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }
        JsonObject? body;
        try
        {
            body = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject;
        }
        catch (JsonException e)
        {
            return RpcError(true, null, ParseError, "Parse error", e.Message);
        }
        catch (BadHttpRequestException)
        {
            return Html(StatusCodes.Status413PayloadTooLarge, "Payload Too Large", null);
        }
        if (body is null)
        {
            return RpcError(true, null, InvalidRequest, "Invalid Request", null);
        }
        var jsonRpc = body["jsonrpc"] is not null;
        if (jsonRpc && body["jsonrpc"]?.GetValueKind() is not JsonValueKind.String || jsonRpc && (string?)body["jsonrpc"] != "2.0")
        {
            return RpcError(true, body["id"], InvalidRequest, "Invalid Request", "JSON-RPC version is not 2.0");
        }
        var call = new Call(context, user, userId, clients, jsonRpc, body[jsonRpc ? "params" : "arguments"] as JsonObject ?? []);
        var method = body["method"] is JsonValue m && m.TryGetValue<string>(out var name) ? TransmissionNames.ToSnake(name) : "";
        Outcome result;
        try
        {
            result = method switch
            {
                "torrent_get" => await TorrentGetAsync(call),
                "torrent_add" => await TorrentAddAsync(call),
                "torrent_set" => await TorrentSetAsync(call),
                "torrent_start" or "torrent_start_now" => await PauseAsync(call, false),
                "torrent_stop" => await PauseAsync(call, true),
                "torrent_verify" => await VerifyAsync(call),
                "torrent_reannounce" => Outcome.Ok([]),
                "torrent_remove" => await RemoveAsync(call),
                "queue_move_top" => await QueueAsync(call, _ => TorrentPriority.High),
                "queue_move_bottom" => await QueueAsync(call, _ => TorrentPriority.Low),
                "queue_move_up" => await QueueAsync(call, p => p == TorrentPriority.Low ? TorrentPriority.Normal : TorrentPriority.High),
                "queue_move_down" => await QueueAsync(call, p => p == TorrentPriority.High ? TorrentPriority.Normal : TorrentPriority.Low),
                "session_get" => await SessionGetAsync(call),
                "session_set" => await SessionSetAsync(call),
                "session_stats" => await SessionStatsAsync(call),
                "free_space" => FreeSpace(call),
                "port_test" => Outcome.Ok(new JsonObject { [call.Key("port_is_open")] = false }),
                _ => Outcome.Fail(MethodNotFound, "method name not recognized"),
            };
        }
        catch (FormatException e)
        {
            result = Outcome.Fail(InvalidParams, e.Message);
        }
        if (jsonRpc)
        {
            // A JSON-RPC notification (no id) gets no body.
            if (!body.ContainsKey("id"))
            {
                return TypedResults.NoContent();
            }
            return result.ErrorCode is { } code
                ? RpcError(true, body["id"], code, JsonRpcMessage(code), result.ErrorString)
                : Json(new JsonObject { ["jsonrpc"] = "2.0", ["result"] = result.Arguments, ["id"] = body["id"]?.DeepClone() });
        }
        var response = new JsonObject
        {
            ["arguments"] = result.Arguments ?? [],
            ["result"] = result.ErrorCode is null ? "success" : result.ErrorString ?? JsonRpcMessage(result.ErrorCode.Value),
        };
        if (body["tag"] is { } tag)
        {
            response["tag"] = tag.DeepClone();
        }
        return Json(response);
    }

    private sealed record Call(HttpContext Context, ClaimsPrincipal User, string UserId, ClientTorrents Clients, bool JsonRpc, JsonObject Arguments)
    {
        public CancellationToken Aborted => Context.RequestAborted;

        /// <summary>An argument by its snake_case name, whatever spelling the client used.</summary>
        public JsonNode? this[string snake] => Arguments.FirstOrDefault(p => TransmissionNames.ToSnake(p.Key) == snake).Value;

        /// <summary>A response key in the client's spelling (torrent fields: camelCase in the legacy protocol).</summary>
        public string Key(string snake) => JsonRpc ? snake : TransmissionNames.ToCamel(snake);
    }

    private readonly record struct Outcome(JsonObject? Arguments, int? ErrorCode, string? ErrorString)
    {
        public static Outcome Ok(JsonObject arguments) => new(arguments, null, null);

        public static Outcome Fail(int code, string message) => new(null, code, message);
    }

    // ---- torrents ----

    /// <summary>The torrents named by <c>ids</c> (an id, a list of ids and hashes, "recently_active"), or all of them.</summary>
    private static async Task<IReadOnlyList<ClientTorrent>> SelectAsync(Call call)
    {
        var all = await call.Clients.ListAsync(call.UserId, call.Aborted);
        var ids = call["ids"];
        if (ids is null)
        {
            return all;
        }
        if (ids is JsonValue single)
        {
            if (single.TryGetValue<string>(out var text))
            {
                if (TransmissionNames.ToSnake(text) == "recently_active")
                {
                    return all.Where(t => t.Torrent.Status.DownloadRate > 0 || t.Torrent.Status.UploadRate > 0).ToList();
                }
                return all.Where(t => t.InfoHash == ClientTorrents.NormalizeHash(text)).ToList();
            }
            return all.Where(t => IdMatches(t, single)).ToList();
        }
        if (ids is JsonArray list)
        {
            return all.Where(t => list.Any(v => v is JsonValue value && (IdMatches(t, value)
                || value.TryGetValue<string>(out var hash) && ClientTorrents.NormalizeHash(hash) == t.InfoHash))).ToList();
        }
        throw new FormatException("ids is an id, a list of ids and hash strings, or \"recently_active\"");
    }

    private static bool IdMatches(ClientTorrent t, JsonValue value) =>
        value.GetValueKind() == JsonValueKind.Number && double.TryParse(value.ToJsonString(), CultureInfo.InvariantCulture, out var id) && id == TorrentId(t.InfoHash);

    /// <summary>
    /// A torrent's integer id: the first 31 bits of its info-hash, the same on every replica and across restarts (which
    /// Transmission's own ids are not); Sonarr and most clients use hashString anyway.
    /// </summary>
    public static int TorrentId(string infoHash) => Math.Max(1, (int)(Convert.ToUInt32(infoHash[..8], 16) & 0x7fffffff));

    private static async Task<Outcome> TorrentGetAsync(Call call)
    {
        if (call["fields"] is not JsonArray fields || fields.Count == 0)
        {
            return Outcome.Fail(InvalidParams, "no fields specified");
        }
        var names = fields.Select(f => f is JsonValue v && v.TryGetValue<string>(out var s) ? s : null).OfType<string>().Distinct().ToList();
        var torrents = await SelectAsync(call);
        var preferences = await QBittorrentPreferences.LoadAsync(call.Clients.Store, call.UserId, call.Aborted);
        var now = call.Context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var table = call["format"] is JsonValue format && format.TryGetValue<string>(out var f) && f == "table";
        var list = new JsonArray();
        if (table)
        {
            list.Add(new JsonArray([.. names.Select(n => (JsonNode?)n)]));
        }
        foreach (var t in torrents)
        {
            var fieldValues = new TransmissionFields(t, call.UserId, call.Clients, preferences, now, call.JsonRpc);
            if (table)
            {
                list.Add(new JsonArray([.. names.Select(n => fieldValues.Get(TransmissionNames.ToSnake(n)))]));
                continue;
            }
            var item = new JsonObject();
            foreach (var name in names)
            {
                if (fieldValues.Get(TransmissionNames.ToSnake(name)) is { } value)
                {
                    item[name] = value;
                }
            }
            list.Add(item);
        }
        return Outcome.Ok(new JsonObject { ["torrents"] = list });
    }

    private static async Task<Outcome> TorrentAddAsync(Call call)
    {
        var clients = call.Clients;
        var paused = call["paused"] is JsonValue p && p.TryGetValue<bool>(out var pb) && pb;
        string? savePath = null;
        if (call["download_dir"] is JsonValue dir && dir.TryGetValue<string>(out var downloadDir) && downloadDir.Length > 0)
        {
            var relative = downloadDir.Replace('\\', '/').TrimEnd('/');
            if (relative != clients.DownloadRoot)
            {
                if (!relative.StartsWith(clients.DownloadRoot + "/", StringComparison.Ordinal))
                {
                    return Outcome.Fail(3, $"download-dir must be {clients.DownloadRoot} or a folder under it");
                }
                relative = relative[(clients.DownloadRoot.Length + 1)..];
                if (TorrentsApi.ValidateSavePath(relative) is { } reason)
                {
                    return Outcome.Fail(InvalidParams, reason);
                }
                savePath = relative;
            }
        }
        var labels = new List<string>();
        if (call["labels"] is JsonArray labelArray)
        {
            foreach (var label in labelArray)
            {
                if (label is not JsonValue lv || !lv.TryGetValue<string>(out var text) || text.Length == 0)
                {
                    return Outcome.Fail(InvalidParams, "labels cannot be empty");
                }
                if (!ClientTorrents.IsValidLabel(text, isTag: true))
                {
                    return Outcome.Fail(InvalidParams, "labels cannot contain comma (,) character");
                }
                labels.Add(text);
            }
        }
        AddTorrentInput input;
        if (call["metainfo"] is JsonValue meta && meta.TryGetValue<string>(out var base64) && base64.Length > 0)
        {
            byte[] bytes;
            try
            {
                bytes = Convert.FromBase64String(base64);
            }
            catch (FormatException)
            {
                return Outcome.Fail(CorruptTorrent, "invalid or corrupt torrent file");
            }
            if (bytes.Length > clients.MaxTorrentFileBytes)
            {
                return Outcome.Fail(CorruptTorrent, "invalid or corrupt torrent file");
            }
            try
            {
                input = new AddTorrentInput(clients.Parser.ParseTorrent(bytes), bytes, null, null, savePath, paused, TorrentPriority.Normal, null);
            }
            catch (TorrentParseException)
            {
                return Outcome.Fail(CorruptTorrent, "invalid or corrupt torrent file");
            }
        }
        else if (call["filename"] is JsonValue fn && fn.TryGetValue<string>(out var filename) && filename.Length > 0)
        {
            // Magnets only: fetching a caller's URL would let anyone make Catalog call inside the network; media managers
            // download .torrent files themselves and send them as metainfo.
            if (!filename.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase) || filename.Length > 16 * 1024)
            {
                return Outcome.Fail(4, "unrecognized info: only magnet links and metainfo are accepted");
            }
            try
            {
                input = new AddTorrentInput(null, null, clients.Parser.ParseMagnet(filename), filename, savePath, paused, TorrentPriority.Normal, null);
            }
            catch (TorrentParseException)
            {
                return Outcome.Fail(4, "unrecognized info");
            }
        }
        else
        {
            return Outcome.Fail(InvalidParams, "no filename or metainfo specified");
        }
        var outcome = await clients.AddAsync(call.User, input, l =>
        {
            l.Tags = [.. labels.Distinct(StringComparer.Ordinal)];
            l.SequentialDownload = call["sequential_download"] is JsonValue sd && sd.TryGetValue<bool>(out var s) && s;
        }, call.Aborted);
        if (outcome == ClientAddOutcome.Refused)
        {
            // A quota reached, or a private torrent another user has: Transmission reports a refused add as the call's result.
            return Outcome.Fail(InvalidParams, "torrent refused: a quota is reached, or it is a private torrent another user has");
        }
        var added = await clients.FindAsync(call.User, input.InfoHash, call.Aborted);
        var summary = new JsonObject
        {
            [call.Key("id")] = TorrentId(input.InfoHash),
            [call.Key("name")] = added?.Torrent.Name ?? input.InfoHash,
            [call.Key("hash_string")] = input.InfoHash,
        };
        return Outcome.Ok(new JsonObject
        {
            [call.JsonRpc ? (outcome == ClientAddOutcome.Added ? "torrent_added" : "torrent_duplicate")
                : (outcome == ClientAddOutcome.Added ? "torrent-added" : "torrent-duplicate")] = summary,
        });
    }

    private static async Task<Outcome> TorrentSetAsync(Call call)
    {
        var hashes = (await SelectAsync(call)).Select(t => t.InfoHash).ToList();
        if (hashes.Count == 0)
        {
            return Outcome.Ok([]);
        }
        List<string>? labels = null;
        if (call["labels"] is JsonArray labelArray)
        {
            labels = [];
            foreach (var label in labelArray)
            {
                if (label is not JsonValue lv || !lv.TryGetValue<string>(out var text) || text.Length == 0)
                {
                    return Outcome.Fail(InvalidParams, "labels cannot be empty");
                }
                if (!ClientTorrents.IsValidLabel(text, isTag: true))
                {
                    return Outcome.Fail(InvalidParams, "labels cannot contain comma (,) character");
                }
                labels.Add(text);
            }
        }
        double? ratioLimit = Number(call["seed_ratio_limit"]);
        var ratioMode = Number(call["seed_ratio_mode"]);
        var idleLimit = Number(call["seed_idle_limit"]);
        var idleMode = Number(call["seed_idle_mode"]);
        var sequential = call["sequential_download"] is JsonValue sv && sv.TryGetValue<bool>(out var sb) ? sb : (bool?)null;
        await call.Clients.ChangeLabelsAsync(call.User, hashes, l =>
        {
            if (labels is not null)
            {
                l.Tags = [.. labels.Distinct(StringComparer.Ordinal)];
            }
            // Transmission's modes: 0 use the session's limit, 1 this torrent's limit, 2 unlimited; qBittorrent's sentinels.
            if (ratioMode is { } rm)
            {
                l.RatioLimit = rm switch { 1 => ratioLimit ?? Math.Max(0, l.RatioLimit), 2 => TorrentLabels.NoLimit, _ => TorrentLabels.UseGlobalLimit };
            }
            else if (ratioLimit is { } rl && l.RatioLimit >= 0)
            {
                l.RatioLimit = rl;
            }
            if (idleMode is { } im)
            {
                l.InactiveSeedingTimeLimit = im switch { 1 => (long)(idleLimit ?? Math.Max(0, l.InactiveSeedingTimeLimit)), 2 => TorrentLabels.NoLimit, _ => TorrentLabels.UseGlobalLimit };
            }
            else if (idleLimit is { } il && l.InactiveSeedingTimeLimit >= 0)
            {
                l.InactiveSeedingTimeLimit = (long)il;
            }
            if (sequential is { } seq)
            {
                l.SequentialDownload = seq;
            }
        }, call.Aborted);

        var wanted = Indexes(call["files_wanted"]);
        var unwanted = Indexes(call["files_unwanted"]);
        var high = Indexes(call["priority_high"]);
        var low = Indexes(call["priority_low"]);
        var normal = Indexes(call["priority_normal"]);
        var bandwidth = Number(call["bandwidth_priority"]);
        if (wanted is not null || unwanted is not null || high is not null || low is not null || normal is not null || bandwidth is not null)
        {
            await call.Clients.ChangeAsync(call.User, hashes, (t, own) =>
            {
                var changed = false;
                var priorities = ClientTorrents.FilePriorities(t, own);
                void Set(List<int>? indexes, Func<FilePriority, FilePriority> to)
                {
                    if (indexes is null)
                    {
                        return;
                    }
                    // An empty list means every file.
                    var targets = indexes.Count == 0 ? Enumerable.Range(0, priorities.Count) : indexes.Where(i => i >= 0 && i < priorities.Count);
                    foreach (var i in targets)
                    {
                        var next = to(priorities[i]);
                        changed |= next != priorities[i];
                        priorities[i] = next;
                    }
                }
                Set(unwanted, _ => FilePriority.Skip);
                Set(wanted, p => p == FilePriority.Skip ? FilePriority.Normal : p);
                Set(high, p => p == FilePriority.Skip ? p : FilePriority.High);
                Set(low, p => p == FilePriority.Skip ? p : FilePriority.Low);
                Set(normal, p => p == FilePriority.Skip ? p : FilePriority.Normal);
                if (bandwidth is { } b)
                {
                    var priority = b < 0 ? TorrentPriority.Low : b > 0 ? TorrentPriority.High : TorrentPriority.Normal;
                    changed |= priority != own.Priority;
                    own.Priority = priority;
                }
                return changed ? null : ChangeOutcome.Unchanged;
            }, call.Aborted);
        }
        return Outcome.Ok([]);
    }

    private static async Task<Outcome> PauseAsync(Call call, bool paused)
    {
        var hashes = (await SelectAsync(call)).Select(t => t.InfoHash).ToList();
        await call.Clients.ChangeAsync(call.User, hashes, (_, own) =>
        {
            if (own.Paused == paused)
            {
                return ChangeOutcome.Unchanged;
            }
            own.Paused = paused;
            return null;
        }, call.Aborted);
        return Outcome.Ok([]);
    }

    private static async Task<Outcome> VerifyAsync(Call call)
    {
        var hashes = (await SelectAsync(call)).Select(t => t.InfoHash).ToList();
        await call.Clients.ChangeAsync(call.User, hashes, (t, _) =>
        {
            if (t.Metainfo is null)
            {
                return ChangeOutcome.Unchanged;
            }
            t.RecheckGeneration++;
            return null;
        }, call.Aborted);
        return Outcome.Ok([]);
    }

    private static async Task<Outcome> RemoveAsync(Call call)
    {
        var hashes = (await SelectAsync(call)).Select(t => t.InfoHash).ToList();
        var delete = call["delete_local_data"] is JsonValue d && d.TryGetValue<bool>(out var b) && b;
        await call.Clients.RemoveAsync(call.User, hashes, delete, call.Aborted);
        return Outcome.Ok([]);
    }

    private static async Task<Outcome> QueueAsync(Call call, Func<TorrentPriority, TorrentPriority> next)
    {
        var hashes = (await SelectAsync(call)).Select(t => t.InfoHash).ToList();
        await call.Clients.ChangeAsync(call.User, hashes, (_, own) =>
        {
            var priority = next(own.Priority);
            if (priority == own.Priority)
            {
                return ChangeOutcome.Unchanged;
            }
            own.Priority = priority;
            return null;
        }, call.Aborted);
        return Outcome.Ok([]);
    }

    // ---- session ----

    private static async Task<Outcome> SessionGetAsync(Call call)
    {
        var preferences = await QBittorrentPreferences.LoadAsync(call.Clients.Store, call.UserId, call.Aborted);
        var session = call.Context.RequestServices.GetRequiredService<TransmissionSession>();
        // Legacy session keys are kebab-case, with a few camelCase exceptions kept by Transmission for compatibility.
        var values = new (string Snake, string Legacy, JsonNode? Value)[]
        {
            ("version", "version", Version),
            ("rpc_version", "rpc-version", RpcVersion),
            ("rpc_version_minimum", "rpc-version-minimum", 14),
            ("rpc_version_semver", "rpc-version-semver", RpcVersionSemver),
            ("session_id", "session-id", session.For(call.UserId)),
            ("download_dir", "download-dir", call.Clients.DownloadRoot),
            ("incomplete_dir", "incomplete-dir", call.Clients.DownloadRoot),
            ("incomplete_dir_enabled", "incomplete-dir-enabled", false),
            ("seed_ratio_limit", "seedRatioLimit", preferences.MaxRatio >= 0 ? preferences.MaxRatio : 2.0),
            ("seed_ratio_limited", "seedRatioLimited", preferences.MaxRatioEnabled),
            ("idle_seeding_limit", "idle-seeding-limit", preferences.MaxInactiveSeedingTime >= 0 ? preferences.MaxInactiveSeedingTime : 30),
            ("idle_seeding_limit_enabled", "idle-seeding-limit-enabled", preferences.MaxInactiveSeedingTimeEnabled),
            ("download_queue_enabled", "download-queue-enabled", preferences.QueueingEnabled),
            ("download_queue_size", "download-queue-size", 5),
            ("seed_queue_enabled", "seed-queue-enabled", false),
            ("seed_queue_size", "seed-queue-size", 10),
            ("queue_stalled_enabled", "queue-stalled-enabled", false),
            ("start_added_torrents", "start-added-torrents", true),
            ("rename_partial_files", "rename-partial-files", false),
            ("dht_enabled", "dht-enabled", false),
            ("pex_enabled", "pex-enabled", false),
            ("lpd_enabled", "lpd-enabled", false),
            ("speed_limit_down_enabled", "speed-limit-down-enabled", false),
            ("speed_limit_up_enabled", "speed-limit-up-enabled", false),
            ("alt_speed_enabled", "alt-speed-enabled", false),
            ("config_dir", "config-dir", ""),
        };
        var fields = call["fields"] is JsonArray requested
            ? requested.Select(f => f is JsonValue v && v.TryGetValue<string>(out var s) ? TransmissionNames.ToSnake(s) : null).OfType<string>().ToHashSet(StringComparer.Ordinal)
            : null;
        var result = new JsonObject();
        foreach (var (snake, legacy, value) in values)
        {
            if (fields is null || fields.Contains(snake))
            {
                result[call.JsonRpc ? snake : legacy] = value;
            }
        }
        return Outcome.Ok(result);
    }

    private static async Task<Outcome> SessionSetAsync(Call call)
    {
        // What a user may set maps onto the same per-user preferences as qBittorrent's app/setPreferences.
        var changes = new JsonObject();
        if (Number(call["seed_ratio_limit"]) is { } ratio)
        {
            changes["max_ratio"] = ratio;
        }
        if (call["seed_ratio_limited"] is JsonValue rl && rl.TryGetValue<bool>(out var ratioLimited))
        {
            changes["max_ratio_enabled"] = ratioLimited;
        }
        if (Number(call["idle_seeding_limit"]) is { } idle)
        {
            changes["max_inactive_seeding_time"] = idle;
        }
        if (call["idle_seeding_limit_enabled"] is JsonValue il && il.TryGetValue<bool>(out var idleEnabled))
        {
            changes["max_inactive_seeding_time_enabled"] = idleEnabled;
        }
        if (call["download_queue_enabled"] is JsonValue q && q.TryGetValue<bool>(out var queueing))
        {
            changes["queueing_enabled"] = queueing;
        }
        await QBittorrentPreferences.SaveAsync(call.Clients.Store, call.UserId, changes, call.Aborted);
        return Outcome.Ok([]);
    }

    private static async Task<Outcome> SessionStatsAsync(Call call)
    {
        var torrents = await call.Clients.ListAsync(call.UserId, call.Aborted);
        JsonObject Stats() => new()
        {
            [call.Key("uploaded_bytes")] = torrents.Sum(t => t.Torrent.Status.UploadedBytes),
            [call.Key("downloaded_bytes")] = torrents.Sum(t => t.Torrent.Status.DownloadedBytes),
            [call.Key("files_added")] = torrents.Sum(t => t.Torrent.Files.Count),
            [call.Key("seconds_active")] = 0,
            [call.Key("session_count")] = 1,
        };
        return Outcome.Ok(new JsonObject
        {
            [call.Key("active_torrent_count")] = torrents.Count(t => t.Torrent.Status.DownloadRate > 0 || t.Torrent.Status.UploadRate > 0),
            [call.Key("download_speed")] = torrents.Sum(t => t.Torrent.Status.DownloadRate),
            [call.Key("paused_torrent_count")] = torrents.Count(t => t.Own.Paused),
            [call.Key("torrent_count")] = torrents.Count,
            [call.Key("upload_speed")] = torrents.Sum(t => t.Torrent.Status.UploadRate),
            [call.JsonRpc ? "cumulative_stats" : "cumulative-stats"] = Stats(),
            [call.JsonRpc ? "current_stats" : "current-stats"] = Stats(),
        });
    }

    private static Outcome FreeSpace(Call call)
    {
        long free = -1, total = -1;
        try
        {
            var drive = new DriveInfo(Path.GetPathRoot(Path.GetFullPath(call.Clients.DownloadRoot)) ?? "/");
            free = drive.AvailableFreeSpace;
            total = drive.TotalSize;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
        }
        return Outcome.Ok(new JsonObject
        {
            ["path"] = call.Clients.DownloadRoot,
            [call.JsonRpc ? "size_bytes" : "size-bytes"] = free,
            ["total_size"] = total,
        });
    }

    // ---- helpers ----

    private static double? Number(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.Number && double.TryParse(v.ToJsonString(), CultureInfo.InvariantCulture, out var d) ? d : null;

    private static List<int>? Indexes(JsonNode? node) => node is JsonArray array
        ? array.Select(Number).Where(n => n is not null).Select(n => (int)n!.Value).ToList()
        : null;

    private static string JsonRpcMessage(int code) => code switch
    {
        ParseError => "Parse error",
        InvalidRequest => "Invalid Request",
        MethodNotFound => "Method not found",
        InvalidParams => "Invalid params",
        CorruptTorrent => "invalid or corrupt torrent file",
        3 => "path is not absolute",
        4 => "unrecognized info",
        _ => "Internal error",
    };

    private static IResult RpcError(bool jsonRpc, JsonNode? id, int code, string message, string? detail)
    {
        var error = new JsonObject { ["code"] = code, ["message"] = message };
        if (detail is not null)
        {
            error["data"] = new JsonObject { ["error_string"] = detail };
        }
        return Json(new JsonObject { ["jsonrpc"] = "2.0", ["error"] = error, ["id"] = id?.DeepClone() });
    }

    private static IResult Json(JsonNode node) => TypedResults.Text(node.ToJsonString(), "application/json", System.Text.Encoding.UTF8);

    /// <summary>Transmission's simple HTML answers: <c>&lt;h1&gt;409: Conflict&lt;/h1&gt;</c> and a text.</summary>
    private static IResult Html(int status, string reason, string? text) =>
        TypedResults.Text($"<h1>{status}: {reason}</h1>{text}", "text/html", System.Text.Encoding.UTF8, status);
}
