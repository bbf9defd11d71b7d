using System.Security.Claims;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using TorrentEdge.Catalog.Apis.Compat;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.Model;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Apis;

/// <summary>The torrents REST API: add, list, status, control, remove and metainfo, per owner.</summary>
public static partial class TorrentsApi
{
    private const int MaxSavePathLength = 255;
    private const int MaxMagnetLength = 16 * 1024;
    private const long MaxJsonBodyBytes = 64 * 1024;

    /// <summary>Users (their own torrents; admins all) and service clients (any torrent) may read metainfo.</summary>
    public const string MetainfoReaderPolicy = "metainfo-reader";

    /// <summary>What POST /api/torrents accepts, for 415 answers.</summary>
    internal const string AddContentTypes =
        "Send a .torrent as multipart/form-data (field 'file') or a magnet as application/json ({\"magnetURI\": \"...\"}).";

    public static IEndpointRouteBuilder MapTorrentsApi(this IEndpointRouteBuilder app)
    {
        // Outside the group: the group's default policy admits people only, this endpoint PeerWorkers as well.
        app.MapGet("/api/torrents/{infoHash}/metainfo", GetMetainfo).WithTags("Torrents").RequireAuthorization(MetainfoReaderPolicy);

        var api = app.MapGroup("/api/torrents").WithTags("Torrents").RequireAuthorization();
        api.MapPost("/", AddTorrent).DisableAntiforgery().Accepts<AddMagnetRequest>("application/json", "multipart/form-data");
        api.MapGet("/", ListTorrents);
        api.MapGet("/{infoHash}", GetTorrent).WithName(nameof(GetTorrent));
        api.MapPost("/{infoHash}/pause", PauseTorrent);
        api.MapPost("/{infoHash}/resume", ResumeTorrent);
        api.MapPost("/{infoHash}/recheck", RecheckTorrent);
        api.MapPut("/{infoHash}/priority", SetPriority);
        api.MapPut("/{infoHash}/files", SetFilePriorities);
        api.MapPut("/{infoHash}/encryption", SetEncryption);
        api.MapDelete("/{infoHash}", RemoveTorrent);
        return app;
    }

    public static async Task<Results<Created<TorrentView>, Ok<TorrentView>, ProblemHttpResult>> AddTorrent(
        HttpRequest request, ClaimsPrincipal user, IServiceProvider services, IOptions<CatalogOptions> options, CancellationToken cancellationToken)
    {
        var parser = services.GetRequiredService<ITorrentParser>();
        var registry = services.GetRequiredService<TorrentRegistry>();
        var maxTorrent = options.Value.MaxTorrentFileBytes;
        // Multipart framing adds a little to the file itself.
        var maxBody = maxTorrent + 64 * 1024;
        if (request.ContentLength > maxBody)
        {
            return Problems.TooLarge(maxBody);
        }
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } sizeFeature)
        {
            sizeFeature.MaxRequestBodySize = maxBody;
        }

        var parsedInput = request.HasFormContentType && request.ContentType!.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            ? await ReadUploadAsync(request, parser, maxTorrent, cancellationToken)
            : request.HasJsonContentType()
                ? await ReadMagnetAsync(request, parser, cancellationToken)
                : (null, null, Problems.UnsupportedMediaType(AddContentTypes));
        if (parsedInput.Problem is not null)
        {
            return parsedInput.Problem;
        }
        var input = parsedInput.Input!;
        string category = "";
        List<string> tags = [];
        if (parsedInput.Labels is { } labelsRequest && LabelsApi.Validate(labelsRequest, out category, out tags) is { } labelProblem)
        {
            return labelProblem;
        }
        var account = await services.GetRequiredService<ICatalogStore>().FindUserByIdAsync(user.GetUserId(), cancellationToken);
        var (torrent, outcome, limit, used) = await registry.AddAsync(user.GetUserId(), input, UserQuota.For(account, options.Value), cancellationToken);
        if (outcome == AddOutcome.TorrentQuotaExceeded)
        {
            return Problems.Forbidden("Torrent quota exceeded",
                $"You own {used} torrents and may own at most {limit}; remove one first, or ask an admin to raise your quota.",
                new Dictionary<string, object?> { ["limit"] = limit, ["used"] = used });
        }
        if (outcome == AddOutcome.ByteQuotaExceeded)
        {
            return Problems.Forbidden("Storage quota exceeded",
                $"Your torrents take {used} bytes; with this one they would exceed your quota of {limit} bytes.",
                new Dictionary<string, object?> { ["limit"] = limit, ["used"] = used, ["torrentBytes"] = input.Torrent?.TotalBytes });
        }
        if (outcome == AddOutcome.PrivateConflict)
        {
            return Problems.Conflict("Private torrent already added",
                "This private torrent (BEP 27) is already downloaded by another user of this server, and private torrents are not shared: "
                + "its peers come from that user's private tracker account.");
        }
        var view = TorrentView.From(torrent!, user.GetUserId(), user.IsAdmin());
        if (parsedInput.Labels is not null)
        {
            // The adder's own category and tags (per user, as the download-client APIs set them).
            await LabelsApi.ApplyAsync(services.GetRequiredService<ClientTorrents>(), user, torrent!.InfoHash, category, tags, cancellationToken);
            view = view with { Category = category, Tags = tags };
        }
        return outcome == AddOutcome.Created
            ? TypedResults.Created($"/api/torrents/{torrent!.InfoHash}", view)
            : TypedResults.Ok(view);
    }

    private static async Task<(AddTorrentInput? Input, LabelsRequest? Labels, ProblemHttpResult? Problem)> ReadUploadAsync(
        HttpRequest request, ITorrentParser parser, long maxTorrent, CancellationToken cancellationToken)
    {
        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(cancellationToken);
        }
        catch (InvalidDataException e) when (e.Message.Contains("limit", StringComparison.OrdinalIgnoreCase))
        {
            return (null, null, Problems.TooLarge(maxTorrent));
        }
        catch (InvalidDataException e)
        {
            return (null, null, Problems.BadRequest("Malformed multipart body", e.Message));
        }
        var file = form.Files.GetFile("file");
        if (file is null)
        {
            return (null, null, Problems.BadRequest("Missing file", "Upload the .torrent in the multipart field 'file'."));
        }
        if (file.Length > maxTorrent)
        {
            return (null, null, Problems.TooLarge(maxTorrent));
        }
        var bytes = new byte[file.Length];
        await using (var stream = file.OpenReadStream())
        {
            await stream.ReadExactlyAsync(bytes, cancellationToken);
        }
        ParsedTorrent parsed;
        try
        {
            parsed = parser.ParseTorrent(bytes);
        }
        catch (TorrentParseException e)
        {
            return (null, null, TorrentProblem(e));
        }
        var options = ReadOptions(form["savePath"], form["paused"], form["priority"],
            form["filePriorities"].ToString() is { Length: > 0 } list ? list.Split(',', StringSplitOptions.TrimEntries) : null,
            parsed.Files.Count, form.ContainsKey("encryption") ? form["encryption"].ToString() : null);
        if (options.Problem is not null)
        {
            return (null, null, options.Problem);
        }
        // Tags as one comma-separated field (as qBittorrent's torrents/add takes them) or as repeated fields.
        var formTags = form["tags"].SelectMany(t => (t ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();
        var labels = form.ContainsKey("category") || form.ContainsKey("tags") ? new LabelsRequest(form["category"].ToString(), formTags) : null;
        return (new AddTorrentInput(parsed, bytes, null, null, null, options.Paused, options.Priority, options.FilePriorities, options.Encryption), labels, null);
    }

    private static async Task<(AddTorrentInput? Input, LabelsRequest? Labels, ProblemHttpResult? Problem)> ReadMagnetAsync(
        HttpRequest request, ITorrentParser parser, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxJsonBodyBytes)
        {
            return (null, null, Problems.TooLarge(MaxJsonBodyBytes));
        }
        AddMagnetRequest? body;
        try
        {
            body = await request.ReadFromJsonAsync<AddMagnetRequest>(CatalogJson.Options, cancellationToken);
        }
        catch (JsonException e)
        {
            return (null, null, Problems.BadRequest("Malformed JSON", e.Message));
        }
        if (string.IsNullOrWhiteSpace(body?.MagnetUri))
        {
            return (null, null, Problems.BadRequest("Missing magnet URI", "Give {\"magnetURI\": \"magnet:?xt=urn:btih:...\"}."));
        }
        if (body.MagnetUri.Length > MaxMagnetLength)
        {
            return (null, null, Problems.BadRequest("Invalid magnet URI", $"A magnet URI has at most {MaxMagnetLength} characters."));
        }
        ParsedMagnet magnet;
        try
        {
            magnet = parser.ParseMagnet(body.MagnetUri);
        }
        catch (TorrentParseException e)
        {
            return (null, null, Problems.BadRequest("Invalid magnet URI", e.Message));
        }
        if (body.FilePriorities is { Count: > 0 })
        {
            return (null, null, Problems.BadRequest("Invalid file priorities",
                "A magnet's files are not known until its metadata arrives; set file priorities afterwards."));
        }
        var options = ReadOptions(body.SavePath, body.Paused?.ToString(), body.Priority, null, 0, body.Encryption);
        if (options.Problem is not null)
        {
            return (null, null, options.Problem);
        }
        var labels = body.Category is not null || body.Tags is not null ? new LabelsRequest(body.Category, body.Tags) : null;
        return (new AddTorrentInput(null, null, magnet, body.MagnetUri, null, options.Paused, options.Priority, null, options.Encryption), labels, null);
    }

    private static ProblemHttpResult TorrentProblem(TorrentParseException e)
    {
        var extensions = new Dictionary<string, object?>();
        if (e.Offset is { } offset)
        {
            extensions["offset"] = offset;
        }
        if (e.TooComplex)
        {
            return Problems.BadRequest("Torrent file too complex", e.Message, extensions);
        }
        return e.Malformed
            ? Problems.BadRequest("Malformed torrent file", e.Offset is { } at ? $"{e.Message} (at byte offset {at})" : e.Message, extensions)
            : Problems.BadRequest("Invalid torrent file", e.Message, extensions);
    }

    private readonly record struct AddOptions(bool Paused, TorrentPriority Priority, IReadOnlyList<FilePriority>? FilePriorities, ProblemHttpResult? Problem,
        PeerEncryption? Encryption = null);

    private static AddOptions ReadOptions(string? savePath, string? paused, string? priority, IReadOnlyList<string>? filePriorities, int fileCount,
        string? encryption = null)
    {
        static AddOptions Fail(ProblemHttpResult problem) => new(false, TorrentPriority.Normal, null, problem);

        if (!string.IsNullOrWhiteSpace(savePath))
        {
            // Refused rather than ignored, so no client believes its files went where it asked.
            return Fail(Problems.BadRequest("Save path not supported", SavePathNotSupported));
        }
        var isPaused = false;
        if (!string.IsNullOrEmpty(paused) && !bool.TryParse(paused, out isPaused))
        {
            return Fail(Problems.BadRequest("Invalid paused flag", "paused is true or false."));
        }
        var torrentPriority = TorrentPriority.Normal;
        if (!string.IsNullOrEmpty(priority) && !TryParsePriority(priority, out torrentPriority))
        {
            return Fail(InvalidPriority());
        }
        List<FilePriority>? files = null;
        if (filePriorities is { Count: > 0 })
        {
            if (filePriorities.Count != fileCount)
            {
                return Fail(Problems.BadRequest("Invalid file priorities", $"Give one priority per file: the torrent has {fileCount} files."));
            }
            files = new List<FilePriority>(filePriorities.Count);
            foreach (var text in filePriorities)
            {
                if (!TryParseFilePriority(text, out var p))
                {
                    return Fail(InvalidFilePriority());
                }
                files.Add(p);
            }
        }
        PeerEncryption? peerEncryption = null;
        if (encryption is not null && !TryParseEncryption(encryption, out peerEncryption))
        {
            return Fail(InvalidEncryption());
        }
        return new AddOptions(isPaused, torrentPriority, files, null, peerEncryption);
    }

    /// <summary>
    /// Why the REST API takes no save path: one download may have several owners (co-owners share its files), and a replica
    /// that takes it over must find it without asking anyone, so its folder is fixed by its info-hash.
    /// </summary>
    internal const string SavePathNotSupported =
        "Every download lands in its own folder, <download root>/<info-hash>, shared by all its owners; leave savePath out.";

    /// <summary>A save path is a relative sub-folder of the download folder: no way out of it (the qBittorrent API's check).</summary>
    internal static string? ValidateSavePath(string path)
    {
        if (path.Length > MaxSavePathLength)
        {
            return $"A save path has at most {MaxSavePathLength} characters.";
        }
        if (path.Any(char.IsControl) || path.Contains('\\') || path.Contains(':'))
        {
            return "A save path has no control characters, backslashes or colons.";
        }
        if (path.StartsWith('/') || Path.IsPathRooted(path))
        {
            return "A save path is relative to the download folder.";
        }
        if (path.Split('/').Any(s => s is ".." or "."))
        {
            return "A save path has no '.' or '..' segments.";
        }
        return null;
    }

    public static async Task<Results<Ok<TorrentListView>, ProblemHttpResult>> ListTorrents(
        ClaimsPrincipal user, ICatalogStore store, CancellationToken cancellationToken,
        int? page = null, int? pageSize = null, string? state = null, string? sort = null, string? order = null,
        string? category = null, string? tag = null)
    {
        var p = page ?? 1;
        var size = pageSize ?? 50;
        if (p < 1 || p > 1_000_000)
        {
            return Problems.BadRequest("Invalid page", "page is a number from 1.");
        }
        if (size is < 1 or > 200)
        {
            return Problems.BadRequest("Invalid page size", "pageSize is between 1 and 200.");
        }
        TorrentState? stateFilter = null;
        if (!string.IsNullOrEmpty(state))
        {
            if (!Enum.TryParse<TorrentState>(state, ignoreCase: true, out var s) || !Enum.IsDefined(s) || state.Any(char.IsDigit))
            {
                return Problems.BadRequest("Invalid state", "state is one of: " + string.Join(", ", Enum.GetNames<TorrentState>().Select(JsonNamingPolicy.CamelCase.ConvertName)) + ".");
            }
            stateFilter = s;
        }
        TorrentSort sortKey;
        switch (sort?.ToLowerInvariant())
        {
            case null or "" or "added": sortKey = TorrentSort.Added; break;
            case "name": sortKey = TorrentSort.Name; break;
            case "progress": sortKey = TorrentSort.Progress; break;
            case "rate": sortKey = TorrentSort.Rate; break;
            default: return Problems.BadRequest("Invalid sort", "sort is one of: name, added, progress, rate.");
        }
        bool descending;
        switch (order?.ToLowerInvariant())
        {
            case null or "": descending = sortKey != TorrentSort.Name; break;
            case "asc": descending = false; break;
            case "desc": descending = true; break;
            default: return Problems.BadRequest("Invalid order", "order is asc or desc.");
        }
        var isAdmin = user.IsAdmin();
        var viewer = user.GetUserId();
        IReadOnlyCollection<string>? labelled = null;
        if (category is not null || tag is not null)
        {
            // The caller's own labels (qBittorrent's filters: category "" is "no category"); the store then pages over them.
            labelled = (await store.ListTorrentLabelsAsync(viewer, cancellationToken))
                .Where(l => (category is null || l.Category == category) && (tag is null || l.Tags.Contains(tag)))
                .Select(l => l.InfoHash).ToList();
            if (category == "")
            {
                // Unlabelled torrents have no labels record at all: every own torrent except those with a category.
                var categorised = (await store.ListTorrentLabelsAsync(viewer, cancellationToken)).Where(l => l.Category.Length > 0).Select(l => l.InfoHash).ToHashSet();
                var own = await OwnHashesAsync(store, viewer, cancellationToken);
                labelled = own.Where(h => !categorised.Contains(h) && (tag is null || labelled.Contains(h))).ToList();
            }
        }
        var result = await store.ListTorrentsAsync(
            new TorrentQuery(isAdmin ? null : user.GetUserId(), stateFilter, sortKey, descending, (p - 1) * size, size) { InfoHashes = labelled }, cancellationToken);
        var views = await LabelsApi.WithLabelsAsync(result.Items.Select(t => TorrentView.From(t, viewer, isAdmin)).ToList(), user, store, cancellationToken);
        return TypedResults.Ok(new TorrentListView(views, result.Total, p, size));
    }

    private static async Task<List<string>> OwnHashesAsync(ICatalogStore store, string userId, CancellationToken cancellationToken)
    {
        var hashes = new List<string>();
        for (var skip = 0; ; skip += 1000)
        {
            var page = await store.ListTorrentsAsync(new TorrentQuery(userId, null, TorrentSort.Added, false, skip, 1000), cancellationToken);
            hashes.AddRange(page.Items.Select(t => t.InfoHash));
            if (page.Items.Count < 1000)
            {
                return hashes;
            }
        }
    }

    public static async Task<Results<Ok<TorrentView>, ProblemHttpResult>> GetTorrent(
        string infoHash, ClaimsPrincipal user, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (NormalizeInfoHash(infoHash) is not { } hash)
        {
            return InvalidInfoHash();
        }
        var torrent = await services.GetRequiredService<TorrentRegistry>().FindVisibleAsync(user, hash, cancellationToken);
        return torrent is null
            ? UnknownTorrent(hash)
            : TypedResults.Ok((await LabelsApi.WithLabelsAsync([TorrentView.From(torrent, user.GetUserId(), user.IsAdmin())], user, services.GetRequiredService<ICatalogStore>(), cancellationToken))[0]);
    }

    public static Task<Results<Ok<TorrentView>, ProblemHttpResult>> PauseTorrent(
        string infoHash, ClaimsPrincipal user, IServiceProvider services, CancellationToken cancellationToken) =>
        ChangeAsync(infoHash, user, services, (_, wishes) => SetPaused(wishes, true), cancellationToken);

    public static Task<Results<Ok<TorrentView>, ProblemHttpResult>> ResumeTorrent(
        string infoHash, ClaimsPrincipal user, IServiceProvider services, CancellationToken cancellationToken) =>
        ChangeAsync(infoHash, user, services, (_, wishes) => SetPaused(wishes, false), cancellationToken);

    // The caller's own pause: the download keeps running while another owner wants it running.
    private static ChangeOutcome? SetPaused(IReadOnlyList<OwnerWishes> wishes, bool paused)
    {
        if (wishes.All(w => w.Paused == paused))
        {
            return ChangeOutcome.Unchanged;
        }
        foreach (var w in wishes)
        {
            w.Paused = paused;
        }
        return null;
    }

    public static Task<Results<Ok<TorrentView>, ProblemHttpResult>> RecheckTorrent(
        string infoHash, ClaimsPrincipal user, IServiceProvider services, CancellationToken cancellationToken) =>
        ChangeAsync(infoHash, user, services, (t, _) =>
        {
            // Verification is of the shared files, and asks for no owner's wish to change: any owner may ask for it.
            if (t.Metainfo is null)
            {
                return ChangeOutcome.Conflict;
            }
            t.RecheckGeneration++;
            return null;
        }, cancellationToken, () => "The torrent's metadata is not known yet; there is nothing to recheck.");

    public static async Task<Results<Ok<TorrentView>, ProblemHttpResult>> SetPriority(
        string infoHash, PriorityRequest? request, ClaimsPrincipal user, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (request?.Priority is not { } text || !TryParsePriority(text, out var priority))
        {
            return InvalidPriority();
        }
        return await ChangeAsync(infoHash, user, services, (_, wishes) =>
        {
            if (wishes.All(w => w.Priority == priority))
            {
                return ChangeOutcome.Unchanged;
            }
            foreach (var w in wishes)
            {
                w.Priority = priority;
            }
            return null;
        }, cancellationToken);
    }

    public static async Task<Results<Ok<TorrentView>, ProblemHttpResult>> SetFilePriorities(
        string infoHash, FilePrioritiesRequest? request, ClaimsPrincipal user, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (request?.Files is not { Count: > 0 } files)
        {
            return Problems.BadRequest("Invalid file priorities", "Give {\"files\": [{\"index\": 0, \"priority\": \"high\"}, ...]}.");
        }
        var changes = new List<(int Index, FilePriority Priority)>(files.Count);
        foreach (var file in files)
        {
            if (file?.Priority is not { } text || !TryParseFilePriority(text, out var p))
            {
                return InvalidFilePriority();
            }
            if (file.Index is not { } index || index < 0)
            {
                return Problems.BadRequest("Invalid file index", "Each entry has an 'index' of 0 or more.");
            }
            changes.Add((index, p));
        }
        string? detail = null;
        return await ChangeAsync(infoHash, user, services, (t, wishes) =>
        {
            if (t.Metainfo is null)
            {
                detail = "The torrent's files are not known until its metadata arrives.";
                return ChangeOutcome.Conflict;
            }
            if (changes.Exists(c => c.Index >= t.Files.Count))
            {
                detail = $"The torrent has {t.Files.Count} files (indexes 0 to {t.Files.Count - 1}).";
                return ChangeOutcome.Invalid;
            }
            foreach (var w in wishes)
            {
                if (w.FilePriorities.Count != t.Files.Count)
                {
                    w.FilePriorities = [.. Enumerable.Repeat(FilePriority.Normal, t.Files.Count)];
                }
                foreach (var (index, p) in changes)
                {
                    w.FilePriorities[index] = p;
                }
            }
            return null;
        }, cancellationToken, () => detail);
    }

    /// <summary>Sets the caller's encryption policy for the torrent: prefer, require, disable, or default (the worker's).</summary>
    public static async Task<Results<Ok<TorrentView>, ProblemHttpResult>> SetEncryption(
        string infoHash, EncryptionRequest? request, ClaimsPrincipal user, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (request?.Encryption is not { } text || !TryParseEncryption(text, out var encryption))
        {
            return InvalidEncryption();
        }
        return await ChangeAsync(infoHash, user, services, (_, wishes) =>
        {
            if (wishes.All(w => w.Encryption == encryption))
            {
                return ChangeOutcome.Unchanged;
            }
            foreach (var w in wishes)
            {
                w.Encryption = encryption;
            }
            return null;
        }, cancellationToken);
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RemoveTorrent(
        string infoHash, ClaimsPrincipal user, IServiceProvider services, CancellationToken cancellationToken, string? deleteData = null)
    {
        if (NormalizeInfoHash(infoHash) is not { } hash)
        {
            return InvalidInfoHash();
        }
        var delete = false;
        if (!string.IsNullOrEmpty(deleteData) && !bool.TryParse(deleteData, out delete))
        {
            return Problems.BadRequest("Invalid deleteData", "deleteData is true or false.");
        }
        var (outcome, _) = await services.GetRequiredService<TorrentRegistry>().RemoveAsync(user, hash, delete, cancellationToken);
        return outcome == ChangeOutcome.NotFound ? UnknownTorrent(hash) : TypedResults.NoContent();
    }

    public static async Task<Results<FileContentHttpResult, ProblemHttpResult>> GetMetainfo(
        string infoHash, ClaimsPrincipal user, IServiceProvider services, CancellationToken cancellationToken)
    {
        if (NormalizeInfoHash(infoHash) is not { } hash)
        {
            return InvalidInfoHash();
        }
        // A worker (service token) fetches metainfo too large for the spec, whoever owns the torrent.
        var isService = user.IsService();
        var torrent = isService
            ? await services.GetRequiredService<ICatalogStore>().FindTorrentAsync(hash, cancellationToken) is { Removed: false } any ? any : null
            : await services.GetRequiredService<TorrentRegistry>().FindVisibleAsync(user, hash, cancellationToken);
        if (torrent is null)
        {
            return UnknownTorrent(hash);
        }
        if (torrent.Metainfo is null)
        {
            return Problems.NotFound("Metadata not available", "The torrent was added by magnet and its metadata has not arrived yet.");
        }
        // Workers get the download's metainfo; a user gets their own upload back as is, or else the same info dictionary
        // around their own trackers (an admin who does not own it: none), never another owner's announce URLs.
        var own = isService ? null : torrent.FindOwner(user.GetUserId())?.Wishes;
        var bytes = isService || own is { MetainfoSource: true }
            ? torrent.Metainfo
            : services.GetRequiredService<ITorrentParser>().WithTrackers(torrent.Metainfo, own?.Trackers ?? []);
        return TypedResults.File(bytes, "application/x-bittorrent", $"{hash}.torrent");
    }

    private static async Task<Results<Ok<TorrentView>, ProblemHttpResult>> ChangeAsync(
        string infoHash, ClaimsPrincipal user, IServiceProvider services, Func<CatalogTorrent, IReadOnlyList<OwnerWishes>, ChangeOutcome?> change,
        CancellationToken cancellationToken, Func<string?>? detail = null)
    {
        if (NormalizeInfoHash(infoHash) is not { } hash)
        {
            return InvalidInfoHash();
        }
        var (outcome, torrent) = await services.GetRequiredService<TorrentRegistry>().ChangeAsync(user, hash, change, cancellationToken);
        return outcome switch
        {
            ChangeOutcome.NotFound => UnknownTorrent(hash),
            ChangeOutcome.Conflict => Problems.Conflict("Not possible now", detail?.Invoke() ?? "The torrent is not in a state that allows this."),
            ChangeOutcome.Invalid => Problems.BadRequest("Invalid request", detail?.Invoke() ?? "The change does not fit this torrent."),
            _ => TypedResults.Ok(TorrentView.From(torrent!, user.GetUserId(), user.IsAdmin())),
        };
    }

    /// <summary>Lower-case 40-hex info-hash, or null for anything else (hostile strings never reach the store).</summary>
    internal static string? NormalizeInfoHash(string value) =>
        value.Length == 40 && InfoHashPattern().IsMatch(value) ? value.ToLowerInvariant() : null;

    internal static bool TryParsePriority(string text, out TorrentPriority priority)
    {
        (var ok, priority) = text.ToLowerInvariant() switch
        {
            "high" => (true, TorrentPriority.High),
            "normal" => (true, TorrentPriority.Normal),
            "low" => (true, TorrentPriority.Low),
            _ => (false, TorrentPriority.Normal),
        };
        return ok;
    }

    internal static bool TryParseFilePriority(string text, out FilePriority priority)
    {
        (var ok, priority) = text.ToLowerInvariant() switch
        {
            "skip" => (true, FilePriority.Skip),
            "low" => (true, FilePriority.Low),
            "normal" => (true, FilePriority.Normal),
            "high" => (true, FilePriority.High),
            _ => (false, FilePriority.Normal),
        };
        return ok;
    }

    /// <summary>prefer, require or disable (any case); default (or empty) is no override: null.</summary>
    internal static bool TryParseEncryption(string text, out PeerEncryption? encryption)
    {
        (var ok, encryption) = text.Trim().ToLowerInvariant() switch
        {
            "prefer" => (true, PeerEncryption.Prefer),
            "require" => (true, PeerEncryption.Require),
            "disable" => (true, PeerEncryption.Disable),
            "default" or "" => (true, (PeerEncryption?)null),
            _ => (false, null),
        };
        return ok;
    }

    private static ProblemHttpResult InvalidEncryption() =>
        Problems.BadRequest("Invalid encryption", "encryption is one of: prefer, require, disable (or default: the worker's setting).");

    private static ProblemHttpResult InvalidInfoHash() =>
        Problems.BadRequest("Invalid info-hash", "An info-hash is 40 hexadecimal characters.");

    private static ProblemHttpResult UnknownTorrent(string hash) =>
        Problems.NotFound("Unknown torrent", $"No torrent {hash} is visible to you.");

    private static ProblemHttpResult InvalidPriority() =>
        Problems.BadRequest("Invalid priority", "priority is one of: high, normal, low.");

    private static ProblemHttpResult InvalidFilePriority() =>
        Problems.BadRequest("Invalid file priority", "A file priority is one of: skip, low, normal, high.");

    [GeneratedRegex("^[0-9a-fA-F]{40}$")]
    private static partial Regex InfoHashPattern();
}

/// <summary>Adds a torrent by magnet URI (JSON body of POST /api/torrents).</summary>
public sealed record AddMagnetRequest(
    [property: System.Text.Json.Serialization.JsonPropertyName("magnetURI")] string? MagnetUri,
    // Read only to refuse it with a reason (see TorrentsApi.SavePathNotSupported).
    string? SavePath,
    bool? Paused,
    string? Priority,
    IReadOnlyList<string>? FilePriorities,
    string? Category = null,
    IReadOnlyList<string?>? Tags = null,
    string? Encryption = null);

/// <summary>PUT /api/torrents/{infoHash}/encryption: prefer, require, disable or default.</summary>
public sealed record EncryptionRequest(string? Encryption);

public sealed record PriorityRequest(string? Priority);

public sealed record FilePrioritiesRequest(IReadOnlyList<FilePriorityEntry?>? Files);

public sealed record FilePriorityEntry(int? Index, string? Priority);
