using System.Collections.Frozen;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;
using TorrentEdge.Catalog.Apis.Compat;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.Model;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Apis.QBittorrent;

/// <summary>
/// qBittorrent's Web API v2 under <c>/api/v2</c> on TorrentEdge's accounts: what Sonarr, Radarr, Prowlarr, web UIs and
/// scripts call, with qBittorrent 5.1's answers (plain-text bodies, its status codes and sentinels). docs/media-managers.md.
/// </summary>
/// <remarks>
/// One route per action name, dispatched like qBittorrent's own WebApplication: an unauthenticated call to anything but
/// <c>auth/login</c> is 403 before the action is looked up, an unknown action is 404, a GET on a POST-only action 405.
/// </remarks>
public static partial class QBittorrentApi
{
    /// <summary>
    /// qBittorrent 5.1.4 and its Web API 2.11.4. Clients pick verbs and fields by these: 2.11 makes Sonarr/Radarr send
    /// <c>stopped</c> (5.x) rather than <c>paused</c>, 2.8.1 lets them pass share limits with the add, 2.6.1 makes them use
    /// <c>content_path</c>. 5.1 is the last release whose log-in answers <c>Ok.</c>/<c>Fails.</c> with an <c>SID</c> cookie
    /// (5.2 answers 401 and names the cookie per port), which is what most clients in use expect. qBittorrent 5 removed the
    /// 4.x verbs pause/resume; they stay here as aliases of stop/start so that 4.x-era clients keep working.
    /// </summary>
    public const string AppVersion = "v5.1.4";

    public const string WebApiVersion = "2.11.4";

    /// <summary>The session cookie's name (qBittorrent up to 5.1).</summary>
    public const string SessionCookie = "SID";

    internal delegate Task<IResult> Action(QBittorrentRequest request);

    private sealed record Entry(bool PostOnly, Action Handler, bool Public = false);

    private static readonly FrozenDictionary<string, Entry> Actions = new Dictionary<string, Entry>
    {
        ["auth/login"] = new(true, Login, Public: true),
        ["auth/logout"] = new(true, Logout),
        ["app/version"] = new(false, _ => Task.FromResult(Text(AppVersion))),
        ["app/webapiVersion"] = new(false, _ => Task.FromResult(Text(WebApiVersion))),
        ["app/buildInfo"] = new(false, _ => Task.FromResult(Json(new JsonObject
        {
            ["qt"] = "6.8.2", ["libtorrent"] = "TorrentEdge engine", ["boost"] = "", ["openssl"] = "", ["zlib"] = "",
            ["bitness"] = 64, ["platform"] = "linux",
        }))),
        ["app/preferences"] = new(false, GetPreferences),
        ["app/setPreferences"] = new(true, SetPreferences),
        ["app/defaultSavePath"] = new(false, r => Task.FromResult(Text(r.Torrents.DownloadRoot))),
        ["transfer/info"] = new(false, TransferInfo),
        ["sync/maindata"] = new(false, QBittorrentSync.MainDataAsync),
        ["torrents/info"] = new(false, Info),
        ["torrents/count"] = new(false, async r => Text((await r.Torrents.ListAsync(r.UserId, r.Aborted)).Count.ToString(System.Globalization.CultureInfo.InvariantCulture))),
        ["torrents/properties"] = new(false, Properties),
        ["torrents/files"] = new(false, Files),
        ["torrents/trackers"] = new(false, Trackers),
        ["torrents/add"] = new(true, Add),
        ["torrents/delete"] = new(true, Delete),
        ["torrents/stop"] = new(true, r => SetPausedAsync(r, true)),
        ["torrents/start"] = new(true, r => SetPausedAsync(r, false)),
        ["torrents/pause"] = new(true, r => SetPausedAsync(r, true)),
        ["torrents/resume"] = new(true, r => SetPausedAsync(r, false)),
        ["torrents/recheck"] = new(true, Recheck),
        ["torrents/reannounce"] = new(true, r => Task.FromResult(r.Requires("hashes") ? Empty() : BadRequest())),
        ["torrents/setCategory"] = new(true, SetCategory),
        ["torrents/createCategory"] = new(true, CreateCategory),
        ["torrents/editCategory"] = new(true, EditCategory),
        ["torrents/removeCategories"] = new(true, RemoveCategories),
        ["torrents/categories"] = new(false, Categories),
        ["torrents/addTags"] = new(true, AddTags),
        ["torrents/setTags"] = new(true, SetTags),
        ["torrents/removeTags"] = new(true, RemoveTags),
        ["torrents/createTags"] = new(true, CreateTags),
        ["torrents/deleteTags"] = new(true, DeleteTags),
        ["torrents/tags"] = new(false, Tags),
        ["torrents/setShareLimits"] = new(true, SetShareLimits),
        ["torrents/topPrio"] = new(true, r => QueueAsync(r, _ => TorrentPriority.High)),
        ["torrents/bottomPrio"] = new(true, r => QueueAsync(r, _ => TorrentPriority.Low)),
        ["torrents/increasePrio"] = new(true, r => QueueAsync(r, p => p == TorrentPriority.Low ? TorrentPriority.Normal : TorrentPriority.High)),
        ["torrents/decreasePrio"] = new(true, r => QueueAsync(r, p => p == TorrentPriority.High ? TorrentPriority.Normal : TorrentPriority.Low)),
        ["torrents/setForceStart"] = new(true, SetForceStart),
        ["torrents/toggleSequentialDownload"] = new(true, r => ToggleAsync(r, l => l.SequentialDownload = !l.SequentialDownload)),
        ["torrents/toggleFirstLastPiecePrio"] = new(true, r => ToggleAsync(r, l => l.FirstLastPiecePriority = !l.FirstLastPiecePriority)),
        ["torrents/filePrio"] = new(true, FilePriority),
    }.ToFrozenDictionary(StringComparer.Ordinal);

    public static IEndpointRouteBuilder MapQBittorrentApi(this IEndpointRouteBuilder app)
    {
        // Log-ins are limited per client address like /api/auth/login; the other actions are what a client polls.
        app.MapMethods("/api/v2/auth/login", [HttpMethods.Get, HttpMethods.Post], (Delegate)((HttpContext context) => DispatchAsync(context, "auth", "login")))
            .AllowAnonymous().ExcludeFromDescription().RequireRateLimiting(AuthApi.LoginRateLimitPolicy);
        app.MapMethods("/api/v2/{scope}/{action}", [HttpMethods.Get, HttpMethods.Post], DispatchAsync)
            .AllowAnonymous().ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> DispatchAsync(HttpContext context, string scope, string action)
    {
        var key = scope + "/" + action;
        var isLogin = key == "auth/login";
        var sessionId = context.Request.Cookies[SessionCookie];
        var authenticator = context.RequestServices.GetRequiredService<ClientAuthenticator>();
        var caller = isLogin ? null : (await authenticator.AuthenticateAsync(context, sessionId)).Principal;
        if (caller is null && !isLogin)
        {
            return Status(StatusCodes.Status403Forbidden, "Forbidden");
        }
        if (!Actions.TryGetValue(key, out var entry))
        {
            return Status(StatusCodes.Status404NotFound, "Not Found");
        }
        if (entry.PostOnly && !HttpMethods.IsPost(context.Request.Method))
        {
            return Status(StatusCodes.Status405MethodNotAllowed, "Method Not Allowed");
        }
        var (parameters, files, problem) = await ReadParametersAsync(context);
        if (problem is not null)
        {
            return problem;
        }
        return await entry.Handler(new QBittorrentRequest(context, caller, parameters, files));
    }

    private static async Task<(IReadOnlyDictionary<string, StringValues> Parameters, IFormFileCollection? Files, IResult? Problem)> ReadParametersAsync(HttpContext context)
    {
        var parameters = new Dictionary<string, StringValues>(StringComparer.Ordinal);
        foreach (var (name, value) in context.Request.Query)
        {
            parameters[name] = value;
        }
        if (!context.Request.HasFormContentType)
        {
            return (parameters, null, null);
        }
        var clients = context.RequestServices.GetRequiredService<ClientTorrents>();
        // Room for a few .torrent files per add; qBittorrent itself cuts requests off at 64 MiB with 413.
        var limit = clients.MaxTorrentFileBytes + 64 * 1024;
        if (context.Request.ContentLength > limit)
        {
            return (parameters, null, Status(StatusCodes.Status413PayloadTooLarge, "Payload Too Large"));
        }
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }
        IFormCollection form;
        try
        {
            form = await context.Request.ReadFormAsync(context.RequestAborted);
        }
        catch (Exception e) when (e is InvalidDataException or BadHttpRequestException)
        {
            return (parameters, null, e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase) || e is BadHttpRequestException { StatusCode: 413 }
                ? Status(StatusCodes.Status413PayloadTooLarge, "Payload Too Large")
                : BadRequest());
        }
        foreach (var (name, value) in form)
        {
            parameters[name] = value;
        }
        return (parameters, form.Files, null);
    }

    // ---- auth ----

    private static async Task<IResult> Login(QBittorrentRequest request)
    {
        var context = request.Context;
        var authenticator = context.RequestServices.GetRequiredService<ClientAuthenticator>();
        var outcome = await authenticator.FromPasswordAsync(request["username"], request["password"], request.Aborted);
        if (outcome.Principal is null)
        {
            // qBittorrent answers a wrong name or password with 200 "Fails."; a disabled account has no qBittorrent
            // equivalent, so it gets the answer of a banned client, which clients treat as an authentication failure.
            return outcome.Disabled ? Status(StatusCodes.Status403Forbidden, "Your account has been disabled.") : Text("Fails.");
        }
        var sessionId = await authenticator.StartSessionAsync(outcome.Principal, request.Aborted);
        context.Response.Cookies.Append(SessionCookie, sessionId, new CookieOptions
        {
            HttpOnly = true,
            Path = "/",
            SameSite = SameSiteMode.Strict,
            Secure = context.Request.IsHttps,
            MaxAge = ClientAuthenticator.SessionLifetime,
        });
        return Text("Ok.");
    }

    private static async Task<IResult> Logout(QBittorrentRequest request)
    {
        var context = request.Context;
        if (context.Request.Cookies[SessionCookie] is { Length: > 0 } sessionId)
        {
            await context.RequestServices.GetRequiredService<ClientAuthenticator>().EndSessionAsync(sessionId, request.Aborted);
            context.Response.Cookies.Delete(SessionCookie, new CookieOptions { Path = "/" });
        }
        return Empty();
    }

    // ---- app ----

    private static async Task<IResult> GetPreferences(QBittorrentRequest request)
    {
        var preferences = await QBittorrentPreferences.LoadAsync(request.Torrents.Store, request.UserId, request.Aborted);
        return Json(preferences.ToJson(request.Torrents.DownloadRoot));
    }

    private static async Task<IResult> SetPreferences(QBittorrentRequest request)
    {
        if (!request.Requires("json"))
        {
            return BadRequest();
        }
        JsonObject? changes;
        try
        {
            changes = JsonNode.Parse(request["json"]) as JsonObject;
        }
        catch (JsonException)
        {
            changes = null;
        }
        if (changes is null)
        {
            return BadRequest("Invalid JSON");
        }
        await QBittorrentPreferences.SaveAsync(request.Torrents.Store, request.UserId, changes, request.Aborted);
        return Empty();
    }

    private static async Task<IResult> TransferInfo(QBittorrentRequest request)
    {
        var torrents = await request.Torrents.ListAsync(request.UserId, request.Aborted);
        return Json(new JsonObject
        {
            ["dl_info_speed"] = torrents.Sum(t => t.Torrent.Status.DownloadRate),
            ["up_info_speed"] = torrents.Sum(t => t.Torrent.Status.UploadRate),
            ["dl_info_data"] = torrents.Sum(t => t.Torrent.Status.DownloadedBytes),
            ["up_info_data"] = torrents.Sum(t => t.Torrent.Status.UploadedBytes),
            ["dl_rate_limit"] = 0,
            ["up_rate_limit"] = 0,
            ["dht_nodes"] = 0,
            ["connection_status"] = "connected",
        });
    }

    // ---- torrents: reading ----

    private static async Task<IResult> Info(QBittorrentRequest request)
    {
        var userId = request.UserId;
        var torrents = await request.Torrents.ListAsync(userId, request.Aborted);
        var now = TimeOf(request).GetUtcNow();
        IEnumerable<ClientTorrent> selected = torrents;
        if (request["filter"] is { Length: > 0 } filter)
        {
            selected = selected.Where(t => QBittorrentStates.MatchesFilter(t, filter));
        }
        if (request.Has("category"))
        {
            var category = request["category"];
            selected = selected.Where(t => t.Labels.Category == category);
        }
        if (request.Has("tag"))
        {
            var tag = request["tag"];
            selected = selected.Where(t => tag.Length == 0 ? t.Labels.Tags.Count == 0 : t.Labels.Tags.Contains(tag, StringComparer.Ordinal));
        }
        if (request["hashes"] is { Length: > 0 })
        {
            var hashes = request.Hashes()?.ToHashSet(StringComparer.Ordinal);
            if (hashes is not null)
            {
                selected = selected.Where(t => hashes.Contains(t.InfoHash));
            }
        }
        var list = selected.Select(t => QBittorrentStates.Serialize(t, userId, request.Torrents, now)).ToList();
        if (list.Count > 0 && request["sort"] is { Length: > 0 } sort)
        {
            if (!list[0].ContainsKey(sort))
            {
                return BadRequest("'sort' parameter is invalid");
            }
            var reverse = request.Bool("reverse") == true;
            list.Sort((a, b) => (reverse ? -1 : 1) * CompareJson(a[sort], b[sort]));
        }
        var offset = int.TryParse(request["offset"], out var o) ? o : 0;
        var limit = int.TryParse(request["limit"], out var l) ? l : 0;
        if (offset < 0)
        {
            offset = list.Count + offset;
        }
        if (offset >= list.Count || offset < 0)
        {
            offset = 0;
        }
        IEnumerable<JsonObject> page = list.Skip(offset);
        if (limit > 0)
        {
            page = page.Take(limit);
        }
        return Json(new JsonArray([.. page]));
    }

    private static async Task<IResult> Properties(QBittorrentRequest request)
    {
        if (!request.Requires("hash"))
        {
            return BadRequest();
        }
        if (await FindAsync(request, request["hash"]) is not { } t)
        {
            return NotFound();
        }
        var s = t.Torrent.Status;
        var now = TimeOf(request).GetUtcNow();
        var added = t.AddedAt(request.UserId);
        var complete = t.Complete;
        return Json(new JsonObject
        {
            ["infohash_v1"] = t.InfoHash,
            ["infohash_v2"] = "",
            ["hash"] = t.InfoHash,
            ["name"] = t.Torrent.Name ?? t.InfoHash,
            ["time_elapsed"] = (long)Math.Max(0, (now - added).TotalSeconds),
            ["seeding_time"] = QBittorrentStates.SeedingSeconds(t, now),
            ["eta"] = QBittorrentStates.Eta(t),
            ["nb_connections"] = s.PeersConnected,
            ["nb_connections_limit"] = -1,
            ["total_downloaded"] = s.DownloadedBytes,
            ["total_downloaded_session"] = s.DownloadedBytes,
            ["total_uploaded"] = s.UploadedBytes,
            ["total_uploaded_session"] = s.UploadedBytes,
            ["dl_speed"] = s.DownloadRate,
            ["dl_speed_avg"] = -1,
            ["up_speed"] = s.UploadRate,
            ["up_speed_avg"] = -1,
            ["dl_limit"] = -1,
            ["up_limit"] = -1,
            ["total_wasted"] = 0,
            ["seeds"] = complete ? 0 : s.PeersConnected,
            ["seeds_total"] = s.Trackers.Count == 0 ? 0 : s.Trackers.Max(x => x.Seeders),
            ["peers"] = complete ? s.PeersConnected : 0,
            ["peers_total"] = s.Trackers.Count == 0 ? 0 : s.Trackers.Max(x => x.Leechers),
            ["share_ratio"] = t.Ratio,
            ["popularity"] = 0,
            ["reannounce"] = 0,
            ["total_size"] = t.Torrent.TotalBytes,
            ["pieces_num"] = -1,
            ["piece_size"] = -1,
            ["pieces_have"] = -1,
            ["created_by"] = "",
            ["is_private"] = false,
            ["private"] = t.Torrent.Metainfo is null ? null : false,
            ["addition_date"] = added.ToUnixTimeSeconds(),
            ["last_seen"] = -1,
            ["completion_date"] = QBittorrentStates.CompletionOn(t),
            ["creation_date"] = -1,
            ["save_path"] = request.Torrents.SavePath(t),
            ["download_path"] = "",
            ["comment"] = "",
            ["has_metadata"] = t.Torrent.Metainfo is not null,
            ["progress"] = s.Progress,
        });
    }

    private static async Task<IResult> Files(QBittorrentRequest request)
    {
        if (!request.Requires("hash"))
        {
            return BadRequest();
        }
        if (await FindAsync(request, request["hash"]) is not { } t)
        {
            return NotFound();
        }
        var files = t.Torrent.Files;
        var indexes = Enumerable.Range(0, files.Count).ToList();
        if (request.Has("indexes"))
        {
            indexes.Clear();
            foreach (var text in request["indexes"].Split('|'))
            {
                if (!int.TryParse(text, out var index) || index < 0)
                {
                    return Status(StatusCodes.Status409Conflict, $"\"{text}\" is not a valid file index.");
                }
                if (index >= files.Count)
                {
                    return Status(StatusCodes.Status409Conflict, $"Index {text} is out of bounds.");
                }
                indexes.Add(index);
            }
        }
        var verified = t.Torrent.Status.FileVerifiedBytes;
        var array = new JsonArray();
        foreach (var i in indexes)
        {
            var f = files[i];
            var progress = f.Length == 0 ? 1 : i < verified.Count ? Math.Min(1, (double)verified[i] / f.Length) : t.Complete ? 1 : 0;
            var item = new JsonObject
            {
                ["index"] = i,
                ["name"] = f.Path,
                ["size"] = f.Length,
                ["progress"] = progress,
                ["priority"] = QBittorrentStates.ToQbtPriority(t.FilePriority(i)),
                ["availability"] = -1,
                ["piece_range"] = new JsonArray(0, 0),
            };
            if (i == 0)
            {
                item["is_seed"] = t.Complete;
            }
            array.Add(item);
        }
        return Json(array);
    }

    private static async Task<IResult> Trackers(QBittorrentRequest request)
    {
        if (!request.Requires("hash"))
        {
            return BadRequest();
        }
        if (await FindAsync(request, request["hash"]) is not { } t)
        {
            return NotFound();
        }
        var view = TorrentView.From(t.Torrent, showOwners: false);
        var array = new JsonArray();
        // qBittorrent lists DHT, PeX and LSD first; our engine has none of them (status 0: disabled).
        foreach (var pseudo in new[] { "** [DHT] **", "** [PeX] **", "** [LSD] **" })
        {
            array.Add(new JsonObject
            {
                ["url"] = pseudo, ["status"] = 0, ["tier"] = -1, ["num_peers"] = 0, ["num_seeds"] = -1, ["num_leeches"] = -1,
                ["num_downloaded"] = -1, ["msg"] = "",
            });
        }
        foreach (var tracker in view.Trackers)
        {
            array.Add(new JsonObject
            {
                ["url"] = tracker.Url,
                ["status"] = tracker.Health switch { "working" or "ok" or "healthy" => 2, "error" or "failed" or "unhealthy" => 4, "updating" => 3, _ => 1 },
                ["tier"] = 0,
                ["num_peers"] = tracker.Seeders + tracker.Leechers,
                ["num_seeds"] = tracker.Seeders,
                ["num_leeches"] = tracker.Leechers,
                ["num_downloaded"] = -1,
                ["msg"] = tracker.LastError ?? "",
            });
        }
        return Json(array);
    }

    // ---- torrents: adding and removing ----

    private static async Task<IResult> Add(QBittorrentRequest request)
    {
        var clients = request.Torrents;
        var userId = request.UserId;
        var paused = request.Bool("stopped") ?? request.Bool("paused") ?? false;
        string? savePath = null;
        if (request["savepath"].Trim() is { Length: > 0 } requested)
        {
            savePath = UnderRoot(requested, clients.DownloadRoot);
            if (savePath is null)
            {
                return BadRequest($"The save path must be a folder under {clients.DownloadRoot}.");
            }
        }
        var category = request["category"];
        if (category.Length > 0 && !ClientTorrents.IsValidLabel(category, isTag: false))
        {
            return Text("Fails.");
        }
        var tags = request["tags"].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(tag => ClientTorrents.IsValidLabel(tag, isTag: true)).Distinct(StringComparer.Ordinal).ToList();
        var ratioLimit = double.TryParse(request["ratioLimit"], System.Globalization.CultureInfo.InvariantCulture, out var r) ? r : TorrentLabels.UseGlobalLimit;
        var seedingTimeLimit = long.TryParse(request["seedingTimeLimit"], out var st) ? st : TorrentLabels.UseGlobalLimit;
        var inactiveLimit = long.TryParse(request["inactiveSeedingTimeLimit"], out var it) ? it : TorrentLabels.UseGlobalLimit;
        var sequential = request.Bool("sequentialDownload") ?? false;
        var firstLast = request.Bool("firstLastPiecePrio") ?? false;
        var forced = request.Bool("forced") ?? false;

        var inputs = new List<AddTorrentInput>();
        foreach (var url in request["urls"].Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // Only magnets: fetching a .torrent from a caller's URL would let anyone make Catalog call inside the network.
            // Media managers download .torrent files themselves and upload them.
            if (url.StartsWith("magnet:", StringComparison.OrdinalIgnoreCase) && url.Length <= 16 * 1024)
            {
                try
                {
                    var magnet = clients.Parser.ParseMagnet(url);
                    inputs.Add(new AddTorrentInput(null, null, magnet, url, savePath, paused, TorrentPriority.Normal, null));
                }
                catch (TorrentParseException)
                {
                }
            }
        }
        foreach (var file in request.Files)
        {
            if (file.Length > clients.MaxTorrentFileBytes)
            {
                return Status(StatusCodes.Status413PayloadTooLarge, "Payload Too Large");
            }
            var bytes = new byte[file.Length];
            await using (var stream = file.OpenReadStream())
            {
                await stream.ReadExactlyAsync(bytes, request.Aborted);
            }
            try
            {
                inputs.Add(new AddTorrentInput(clients.Parser.ParseTorrent(bytes), bytes, null, null, savePath, paused, TorrentPriority.Normal, null));
            }
            catch (TorrentParseException)
            {
                return Status(StatusCodes.Status415UnsupportedMediaType, $"Error: '{file.FileName}' is not a valid torrent file.");
            }
        }

        var anyAdded = false;
        foreach (var input in inputs)
        {
            var outcome = await clients.AddAsync(request.User, input, labels =>
            {
                labels.Category = category;
                labels.Tags = [.. tags];
                labels.RatioLimit = ratioLimit;
                labels.SeedingTimeLimit = seedingTimeLimit;
                labels.InactiveSeedingTimeLimit = inactiveLimit;
                labels.SequentialDownload = sequential;
                labels.FirstLastPiecePriority = firstLast;
                labels.ForceStart = forced;
            }, request.Aborted);
            anyAdded |= outcome == ClientAddOutcome.Added;
        }
        if (anyAdded)
        {
            await clients.EnsureCategoryAsync(userId, category, request.Aborted);
            await clients.EnsureTagsAsync(userId, tags, request.Aborted);
        }
        // qBittorrent: "Ok." when at least one was added; a duplicate or an unreadable URL counts as not added.
        return Text(anyAdded ? "Ok." : "Fails.");
    }

    private static async Task<IResult> Delete(QBittorrentRequest request)
    {
        // qBittorrent requires deleteFiles too and answers 400 without it; Sonarr and Radarr leave it out when they remove a
        // torrent but keep its data, so that request fails against qBittorrent itself. Absent means false here.
        if (!request.Requires("hashes"))
        {
            return BadRequest();
        }
        await request.Torrents.RemoveAsync(request.User, request.Hashes(), request.Bool("deleteFiles") ?? false, request.Aborted);
        return Empty();
    }

    // ---- torrents: control ----

    private static async Task<IResult> SetPausedAsync(QBittorrentRequest request, bool paused)
    {
        if (!request.Requires("hashes"))
        {
            return BadRequest();
        }
        await request.Torrents.ChangeAsync(request.User, request.Hashes(), (_, own) =>
        {
            if (own.Paused == paused)
            {
                return ChangeOutcome.Unchanged;
            }
            own.Paused = paused;
            return null;
        }, request.Aborted);
        if (!paused)
        {
            // Starting normally ends a force start, as in qBittorrent.
            await request.Torrents.ChangeLabelsAsync(request.User, request.Hashes(), l => l.ForceStart = false, request.Aborted);
        }
        return Empty();
    }

    private static async Task<IResult> Recheck(QBittorrentRequest request)
    {
        if (!request.Requires("hashes"))
        {
            return BadRequest();
        }
        await request.Torrents.ChangeAsync(request.User, request.Hashes(), (t, _) =>
        {
            if (t.Metainfo is null)
            {
                return ChangeOutcome.Unchanged;
            }
            t.RecheckGeneration++;
            return null;
        }, request.Aborted);
        return Empty();
    }

    private static async Task<IResult> QueueAsync(QBittorrentRequest request, Func<TorrentPriority, TorrentPriority> next)
    {
        if (!request.Requires("hashes"))
        {
            return BadRequest();
        }
        var preferences = await QBittorrentPreferences.LoadAsync(request.Torrents.Store, request.UserId, request.Aborted);
        if (!preferences.QueueingEnabled)
        {
            return Status(StatusCodes.Status409Conflict, "Torrent queueing must be enabled");
        }
        await request.Torrents.ChangeAsync(request.User, request.Hashes(), (_, own) =>
        {
            var priority = next(own.Priority);
            if (priority == own.Priority)
            {
                return ChangeOutcome.Unchanged;
            }
            own.Priority = priority;
            return null;
        }, request.Aborted);
        return Empty();
    }

    private static async Task<IResult> SetForceStart(QBittorrentRequest request)
    {
        if (!request.Requires("hashes", "value"))
        {
            return BadRequest();
        }
        var value = request.Bool("value") ?? false;
        var hashes = request.Hashes();
        await request.Torrents.ChangeLabelsAsync(request.User, hashes, l => l.ForceStart = value, request.Aborted);
        // A forced torrent runs whatever the queue says; ours also runs when not paused, so forcing means resuming.
        await request.Torrents.ChangeAsync(request.User, hashes, (_, own) =>
        {
            if (!own.Paused)
            {
                return ChangeOutcome.Unchanged;
            }
            own.Paused = false;
            return null;
        }, request.Aborted);
        return Empty();
    }

    private static async Task<IResult> ToggleAsync(QBittorrentRequest request, Action<TorrentLabels> toggle)
    {
        if (!request.Requires("hashes"))
        {
            return BadRequest();
        }
        await request.Torrents.ChangeLabelsAsync(request.User, request.Hashes(), toggle, request.Aborted);
        return Empty();
    }

    private static async Task<IResult> SetShareLimits(QBittorrentRequest request)
    {
        // qBittorrent 5.1 also requires inactiveSeedingTimeLimit; clients written for 4.x (Sonarr's fallback among them)
        // do not send it, so it defaults to "use global" here.
        if (!request.Requires("hashes", "ratioLimit", "seedingTimeLimit"))
        {
            return BadRequest();
        }
        var ratio = double.TryParse(request["ratioLimit"], System.Globalization.CultureInfo.InvariantCulture, out var r) ? r : 0;
        var seeding = long.TryParse(request["seedingTimeLimit"], out var s) ? s : 0;
        var inactive = long.TryParse(request["inactiveSeedingTimeLimit"], out var i) ? i : TorrentLabels.UseGlobalLimit;
        await request.Torrents.ChangeLabelsAsync(request.User, request.Hashes(), l =>
        {
            l.RatioLimit = ratio;
            l.SeedingTimeLimit = seeding;
            l.InactiveSeedingTimeLimit = inactive;
        }, request.Aborted);
        return Empty();
    }

    private static async Task<IResult> FilePriority(QBittorrentRequest request)
    {
        if (!request.Requires("hash", "id", "priority"))
        {
            return BadRequest();
        }
        if (!int.TryParse(request["priority"], out var value))
        {
            return BadRequest("Priority must be an integer");
        }
        if (QBittorrentStates.FromQbtPriority(value) is not { } priority)
        {
            return BadRequest("Priority is not valid");
        }
        if (await FindAsync(request, request["hash"]) is not { } t)
        {
            return NotFound();
        }
        if (t.Torrent.Metainfo is null)
        {
            return Status(StatusCodes.Status409Conflict, "Torrent's metadata has not yet downloaded");
        }
        var ids = new List<int>();
        foreach (var text in request["id"].Split('|'))
        {
            if (!int.TryParse(text, out var id))
            {
                return BadRequest("File IDs must be integers");
            }
            if (id < 0 || id >= t.Torrent.Files.Count)
            {
                return Status(StatusCodes.Status409Conflict, "File ID is not valid");
            }
            ids.Add(id);
        }
        await request.Torrents.ChangeAsync(request.User, [t.InfoHash], (torrent, own) =>
        {
            var changed = false;
            var priorities = ClientTorrents.FilePriorities(torrent, own);
            foreach (var id in ids.Where(id => id < priorities.Count && priorities[id] != priority))
            {
                priorities[id] = priority;
                changed = true;
            }
            return changed ? null : ChangeOutcome.Unchanged;
        }, request.Aborted);
        return Empty();
    }

    // ---- categories and tags ----

    private static async Task<IResult> SetCategory(QBittorrentRequest request)
    {
        if (!request.Requires("hashes", "category"))
        {
            return BadRequest();
        }
        var category = request["category"];
        if (category.Length > 0)
        {
            var known = await request.Torrents.Store.ListUserLabelsAsync(request.UserId, UserLabelKinds.Category, request.Aborted);
            if (!known.Any(k => k.Name == category))
            {
                return Status(StatusCodes.Status409Conflict, "Incorrect category name");
            }
        }
        await request.Torrents.ChangeLabelsAsync(request.User, request.Hashes(), l => l.Category = category, request.Aborted);
        return Empty();
    }

    private static async Task<IResult> CreateCategory(QBittorrentRequest request)
    {
        if (!request.Requires("category"))
        {
            return BadRequest();
        }
        var category = request["category"];
        if (category.Length == 0)
        {
            return BadRequest("Category cannot be empty");
        }
        if (!ClientTorrents.IsValidLabel(category, isTag: false))
        {
            return Status(StatusCodes.Status409Conflict, "Incorrect category name");
        }
        // A category's save path is not kept: workers decide where content goes, and a client told otherwise would look
        // for finished downloads in the wrong place.
        return await request.Torrents.Store.TryAddUserLabelAsync(new UserLabel(request.UserId, UserLabelKinds.Category, category, ""), request.Aborted)
            ? Empty()
            : Status(StatusCodes.Status409Conflict, "Unable to create category");
    }

    private static async Task<IResult> EditCategory(QBittorrentRequest request)
    {
        if (!request.Requires("category", "savePath"))
        {
            return BadRequest();
        }
        var category = request["category"];
        if (category.Length == 0)
        {
            return BadRequest("Category cannot be empty");
        }
        var known = await request.Torrents.Store.ListUserLabelsAsync(request.UserId, UserLabelKinds.Category, request.Aborted);
        return known.Any(k => k.Name == category) ? Empty() : Status(StatusCodes.Status409Conflict, "Unable to edit category");
    }

    private static async Task<IResult> RemoveCategories(QBittorrentRequest request)
    {
        if (!request.Requires("categories"))
        {
            return BadRequest();
        }
        var names = request["categories"].Split('\n').Where(n => n.Length > 0).ToHashSet(StringComparer.Ordinal);
        foreach (var name in names)
        {
            await request.Torrents.Store.DeleteUserLabelAsync(request.UserId, UserLabelKinds.Category, name, request.Aborted);
        }
        var affected = (await request.Torrents.ListAsync(request.UserId, request.Aborted)).Where(t => names.Contains(t.Labels.Category)).Select(t => t.InfoHash).ToList();
        if (affected.Count > 0)
        {
            await request.Torrents.ChangeLabelsAsync(request.User, affected, l => l.Category = "", request.Aborted);
        }
        return Empty();
    }

    private static async Task<IResult> Categories(QBittorrentRequest request)
    {
        var result = new JsonObject();
        foreach (var category in await request.Torrents.Store.ListUserLabelsAsync(request.UserId, UserLabelKinds.Category, request.Aborted))
        {
            result[category.Name] = new JsonObject { ["name"] = category.Name, ["savePath"] = "" };
        }
        return Json(result);
    }

    private static List<string> TagList(QBittorrentRequest request) =>
        request["tags"].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(tag => ClientTorrents.IsValidLabel(tag, isTag: true)).Distinct(StringComparer.Ordinal).ToList();

    private static async Task<IResult> AddTags(QBittorrentRequest request)
    {
        if (!request.Requires("hashes", "tags"))
        {
            return BadRequest();
        }
        var tags = TagList(request);
        await request.Torrents.EnsureTagsAsync(request.UserId, tags, request.Aborted);
        await request.Torrents.ChangeLabelsAsync(request.User, request.Hashes(), l => l.Tags = [.. l.Tags.Union(tags, StringComparer.Ordinal)], request.Aborted);
        return Empty();
    }

    private static async Task<IResult> SetTags(QBittorrentRequest request)
    {
        if (!request.Requires("hashes", "tags"))
        {
            return BadRequest();
        }
        var tags = TagList(request);
        await request.Torrents.EnsureTagsAsync(request.UserId, tags, request.Aborted);
        await request.Torrents.ChangeLabelsAsync(request.User, request.Hashes(), l => l.Tags = [.. tags], request.Aborted);
        return Empty();
    }

    private static async Task<IResult> RemoveTags(QBittorrentRequest request)
    {
        if (!request.Requires("hashes"))
        {
            return BadRequest();
        }
        var tags = TagList(request);
        await request.Torrents.ChangeLabelsAsync(request.User, request.Hashes(),
            l => l.Tags = tags.Count == 0 ? [] : [.. l.Tags.Except(tags, StringComparer.Ordinal)], request.Aborted);
        return Empty();
    }

    private static async Task<IResult> CreateTags(QBittorrentRequest request)
    {
        if (!request.Requires("tags"))
        {
            return BadRequest();
        }
        await request.Torrents.EnsureTagsAsync(request.UserId, TagList(request), request.Aborted);
        return Empty();
    }

    private static async Task<IResult> DeleteTags(QBittorrentRequest request)
    {
        if (!request.Requires("tags"))
        {
            return BadRequest();
        }
        var tags = TagList(request);
        foreach (var tag in tags)
        {
            await request.Torrents.Store.DeleteUserLabelAsync(request.UserId, UserLabelKinds.Tag, tag, request.Aborted);
        }
        var affected = (await request.Torrents.ListAsync(request.UserId, request.Aborted))
            .Where(t => t.Labels.Tags.Intersect(tags, StringComparer.Ordinal).Any()).Select(t => t.InfoHash).ToList();
        if (affected.Count > 0)
        {
            await request.Torrents.ChangeLabelsAsync(request.User, affected, l => l.Tags = [.. l.Tags.Except(tags, StringComparer.Ordinal)], request.Aborted);
        }
        return Empty();
    }

    private static async Task<IResult> Tags(QBittorrentRequest request) =>
        Json(new JsonArray([.. (await request.Torrents.Store.ListUserLabelsAsync(request.UserId, UserLabelKinds.Tag, request.Aborted))
            .Select(t => (JsonNode?)JsonValue.Create(t.Name))]));

    // ---- helpers ----

    private static async Task<ClientTorrent?> FindAsync(QBittorrentRequest request, string hash) =>
        ClientTorrents.NormalizeHash(hash) is { } normalized ? await request.Torrents.FindAsync(request.User, normalized, request.Aborted) : null;

    private static TimeProvider TimeOf(QBittorrentRequest request) => request.Context.RequestServices.GetRequiredService<TimeProvider>();

    /// <summary>A save path given by a client, as the relative folder our registry keeps, or null when outside the root.</summary>
    private static string? UnderRoot(string path, string root)
    {
        var relative = path.Replace('\\', '/');
        if (relative.StartsWith(root + "/", StringComparison.Ordinal))
        {
            relative = relative[(root.Length + 1)..];
        }
        else if (relative == root)
        {
            return null;
        }
        relative = relative.Trim('/');
        return relative.Length == 0 || TorrentsApi.ValidateSavePath(relative) is not null || path.StartsWith('/') && !path.StartsWith(root + "/", StringComparison.Ordinal)
            ? null
            : relative;
    }

    private static int CompareJson(JsonNode? a, JsonNode? b)
    {
        if (a is JsonValue va && b is JsonValue vb)
        {
            if (va.TryGetValue<string>(out var sa) && vb.TryGetValue<string>(out var sb))
            {
                return string.CompareOrdinal(sa, sb);
            }
            if (va.TryGetValue<bool>(out var ba) && vb.TryGetValue<bool>(out var bb))
            {
                return ba.CompareTo(bb);
            }
            return (double.TryParse(va.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture, out var da) ? da : 0)
                .CompareTo(double.TryParse(vb.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture, out var db) ? db : 0);
        }
        return 0;
    }

    internal static IResult Text(string body) => TypedResults.Text(body, "text/plain", System.Text.Encoding.UTF8);

    internal static IResult Empty() => TypedResults.Text("", "text/plain", System.Text.Encoding.UTF8);

    internal static IResult Json(JsonNode node) => TypedResults.Text(node.ToJsonString(), "application/json", System.Text.Encoding.UTF8);

    /// <summary>qBittorrent's error answers: the status and a plain-text message (its status text when it has none).</summary>
    internal static IResult Status(int status, string message) => TypedResults.Text(message, "text/plain", System.Text.Encoding.UTF8, status);

    internal static IResult BadRequest(string message = "Bad Request") => Status(StatusCodes.Status400BadRequest, message);

    private static IResult NotFound() => Status(StatusCodes.Status404NotFound, "Not Found");
}
