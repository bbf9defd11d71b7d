using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using TorrentEdge.Analytics.Model;

namespace TorrentEdge.Analytics.Apis;

/// <summary><c>/api/statistics</c>: totals, per user, per torrent and swarm health; a user sees their own torrents, an admin all.</summary>
public static class StatisticsApi
{
    /// <summary>The role that sees every user's statistics (Catalog's <c>role</c> claim).</summary>
    public const string AdminRole = "admin";

    public static WebApplication MapStatisticsApi(this WebApplication app)
    {
        var secured = DefaultAuthentication.IsEnabled(app.Configuration, app.Environment);
        var api = app.MapGroup("/api/statistics").WithTags("Statistics");
        if (secured)
        {
            api.RequireAuthorization();
        }
        api.MapGet("/", (StatisticsStore store, ClaimsPrincipal user) => GetStatistics(store, OwnerScope(user, secured)));
        api.MapGet("/torrents/{infoHash}", (string infoHash, StatisticsStore store, ClaimsPrincipal user)
            => GetTorrentStatistics(infoHash, store, OwnerScope(user, secured)));
        api.MapGet("/users/{userId}", (string userId, StatisticsStore store, ClaimsPrincipal user)
            => GetUserStatistics(userId, store, OwnerScope(user, secured)));
        return app;
    }

    /// <summary>Null when the caller sees everything (an admin, or no authentication configured); otherwise their user id.</summary>
    public static string? OwnerScope(ClaimsPrincipal user, bool secured)
    {
        if (!secured || user.IsInRole(AdminRole))
        {
            return null;
        }
        // A token without a subject owns nothing; the empty id matches no owner.
        return user.FindFirstValue("sub") ?? string.Empty;
    }

    public static Ok<StatisticsSnapshot> GetStatistics(StatisticsStore store, string? owner)
        => TypedResults.Ok(store.GetSnapshot(owner));

    public static Results<Ok<TorrentStatistics>, NotFound> GetTorrentStatistics(string infoHash, StatisticsStore store, string? owner)
        => store.GetTorrent(infoHash, owner) is { } torrent ? TypedResults.Ok(torrent) : TypedResults.NotFound();

    public static Results<Ok<UserStatistics>, NotFound> GetUserStatistics(string userId, StatisticsStore store, string? owner)
        => store.GetUser(userId, owner) is { } user ? TypedResults.Ok(user) : TypedResults.NotFound();
}
