using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using TorrentEdge.Catalog.Apis.Compat;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.Model;

namespace TorrentEdge.Catalog.Apis;

/// <summary>
/// Categories and tags in the REST API: each user's own, the same ones qBittorrent's and Transmission's APIs set
/// (Transmission's labels are tags). A torrent's category and tags are in its view.
/// </summary>
public static class LabelsApi
{
    public static IEndpointRouteBuilder MapLabelsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").WithTags("Labels").RequireAuthorization();
        api.MapGet("/categories", ListCategories);
        api.MapGet("/tags", ListTags);
        api.MapPut("/torrents/{infoHash}/labels", SetLabels);
        return app;
    }

    public static async Task<Ok<IReadOnlyList<string>>> ListCategories(ClaimsPrincipal user, ICatalogStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<string>>((await store.ListUserLabelsAsync(user.GetUserId(), UserLabelKinds.Category, cancellationToken)).Select(l => l.Name).ToList());

    public static async Task<Ok<IReadOnlyList<string>>> ListTags(ClaimsPrincipal user, ICatalogStore store, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<string>>((await store.ListUserLabelsAsync(user.GetUserId(), UserLabelKinds.Tag, cancellationToken)).Select(l => l.Name).ToList());

    /// <summary>Sets the caller's category (empty: none) and tags of one of the caller's torrents; new names are created.</summary>
    internal static async Task<Results<Ok<LabelsView>, ProblemHttpResult>> SetLabels(
        string infoHash, LabelsRequest? request, ClaimsPrincipal user, ClientTorrents clients, CancellationToken cancellationToken)
    {
        if (ClientTorrents.NormalizeHash(infoHash) is not { } hash)
        {
            return Problems.BadRequest("Invalid info-hash", "An info-hash is 40 hexadecimal characters.");
        }
        if (Validate(request, out var category, out var distinct) is { } problem)
        {
            return problem;
        }
        if (await clients.FindAsync(user, hash, cancellationToken) is null)
        {
            return Problems.NotFound("Unknown torrent", $"No torrent {hash} of yours.");
        }
        await ApplyAsync(clients, user, hash, category, distinct, cancellationToken);
        return TypedResults.Ok(new LabelsView(category, distinct));
    }

    /// <summary>Checks a category (empty: none) and tags; the tags come back without duplicates.</summary>
    internal static ProblemHttpResult? Validate(LabelsRequest? request, out string category, out List<string> tags)
    {
        category = request?.Category ?? "";
        tags = [];
        if (category.Length > 0 && !ClientTorrents.IsValidLabel(category, isTag: false))
        {
            return Problems.BadRequest("Invalid category", "A category has 1 to 255 characters, no control characters, backslashes or empty path segments.");
        }
        var given = request?.Tags ?? [];
        if (given.Any(t => t is null || !ClientTorrents.IsValidLabel(t, isTag: true)))
        {
            return Problems.BadRequest("Invalid tag", "A tag has 1 to 255 characters, no control characters and no commas.");
        }
        tags = given.OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        return null;
    }

    /// <summary>Sets the caller's labels of one of the caller's torrents, creating new category and tag names.</summary>
    internal static async Task ApplyAsync(ClientTorrents clients, ClaimsPrincipal user, string hash, string category, List<string> distinct, CancellationToken cancellationToken)
    {
        await clients.EnsureCategoryAsync(user.GetUserId(), category, cancellationToken);
        await clients.EnsureTagsAsync(user.GetUserId(), distinct, cancellationToken);
        await clients.ChangeLabelsAsync(user, [hash], l =>
        {
            l.Category = category;
            l.Tags = distinct;
        }, cancellationToken);
    }

    /// <summary>The caller's labels of each torrent, joined into views (one query for the whole page).</summary>
    internal static async Task<IReadOnlyList<TorrentView>> WithLabelsAsync(
        IReadOnlyList<TorrentView> views, ClaimsPrincipal user, ICatalogStore store, CancellationToken cancellationToken)
    {
        var labels = (await store.ListTorrentLabelsAsync(user.GetUserId(), cancellationToken)).ToDictionary(l => l.InfoHash, StringComparer.Ordinal);
        return views.Select(v => labels.TryGetValue(v.InfoHash, out var l) ? v with { Category = l.Category, Tags = l.Tags } : v with { Category = "", Tags = [] }).ToList();
    }
}

public sealed record LabelsRequest(string? Category, IReadOnlyList<string?>? Tags);

public sealed record LabelsView(string Category, IReadOnlyList<string> Tags);
