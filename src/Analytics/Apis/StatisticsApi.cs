using Microsoft.AspNetCore.Http.HttpResults;
using TorrentEdge.Analytics.Model;

namespace TorrentEdge.Analytics.Apis;

/// <summary><c>/api/statistics</c>: totals, per user, per torrent and swarm health.</summary>
public static class StatisticsApi
{
    public static IEndpointRouteBuilder MapStatisticsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/statistics").WithTags("Statistics");
        api.MapGet("/", GetStatistics);
        api.MapGet("/torrents/{infoHash}", GetTorrentStatistics);
        api.MapGet("/users/{userId}", GetUserStatistics);
        return app;
    }

    public static Ok<StatisticsSnapshot> GetStatistics(StatisticsStore store) => TypedResults.Ok(store.GetSnapshot());

    public static Results<Ok<TorrentStatistics>, NotFound> GetTorrentStatistics(string infoHash, StatisticsStore store)
        => store.GetTorrent(infoHash) is { } torrent ? TypedResults.Ok(torrent) : TypedResults.NotFound();

    public static Results<Ok<UserStatistics>, NotFound> GetUserStatistics(string userId, StatisticsStore store)
        => store.GetUser(userId) is { } user ? TypedResults.Ok(user) : TypedResults.NotFound();
}
