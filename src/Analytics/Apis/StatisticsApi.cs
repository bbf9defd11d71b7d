using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using TorrentEdge.Analytics.Infrastructure;
using TorrentEdge.Analytics.Model;

namespace TorrentEdge.Analytics.Apis;

/// <summary><c>/api/statistics</c>: totals, per user, per torrent, swarm health and rate history; a user sees their own torrents, an admin all.</summary>
public static class StatisticsApi
{
    /// <summary>The role that sees every user's statistics (Catalog's <c>role</c> claim).</summary>
    public const string AdminRole = "admin";

    /// <summary>Most points one history request may ask for.</summary>
    public const int MaxHistoryPoints = 100_000;

    public static WebApplication MapStatisticsApi(this WebApplication app)
    {
        var secured = DefaultAuthentication.IsEnabled(app.Configuration, app.Environment);
        var api = app.MapGroup("/api/statistics").WithTags("Statistics");
        if (secured)
        {
            api.RequireAuthorization();
        }
        api.MapGet("/", (LiveStatistics store, ClaimsPrincipal user) => GetStatistics(store, OwnerScope(user, secured)));
        api.MapGet("/torrents/{infoHash}", (string infoHash, LiveStatistics store, ClaimsPrincipal user)
            => GetTorrentStatistics(infoHash, store, OwnerScope(user, secured)));
        api.MapGet("/torrents/{infoHash}/history", (string infoHash, string? from, string? to, string? step, LiveStatistics live, IStatisticsStore store,
                TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
            => GetTorrentHistory(infoHash, from, to, step, live, store, time, OwnerScope(user, secured), cancellationToken));
        api.MapGet("/users/{userId}", (string userId, LiveStatistics store, ClaimsPrincipal user)
            => GetUserStatistics(userId, store, OwnerScope(user, secured)));
        api.MapGet("/users/{userId}/history", (string userId, string? from, string? to, string? step, LiveStatistics live, IStatisticsStore store,
                TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
            => GetUserHistory(userId, from, to, step, live, store, time, OwnerScope(user, secured), cancellationToken));
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

    public static Ok<StatisticsSnapshot> GetStatistics(LiveStatistics store, string? owner)
        => TypedResults.Ok(store.GetSnapshot(owner));

    public static Results<Ok<TorrentStatistics>, NotFound> GetTorrentStatistics(string infoHash, LiveStatistics store, string? owner)
        => store.GetTorrent(infoHash, owner) is { } torrent ? TypedResults.Ok(torrent) : TypedResults.NotFound();

    public static Results<Ok<UserStatistics>, NotFound> GetUserStatistics(string userId, LiveStatistics store, string? owner)
        => store.GetUser(userId, owner) is { } user ? TypedResults.Ok(user) : TypedResults.NotFound();

    public static async Task<Results<Ok<RateHistory>, NotFound, ProblemHttpResult>> GetTorrentHistory(string infoHash, string? from, string? to, string? step,
        LiveStatistics live, IStatisticsStore store, TimeProvider time, string? owner, CancellationToken cancellationToken)
    {
        if (!HistoryQuery.TryParse(from, to, step, time.GetUtcNow(), out var query, out var problem))
        {
            return problem;
        }
        if (live.GetTorrent(infoHash, owner) is not { } torrent)
        {
            return TypedResults.NotFound();
        }
        var points = await store.GetRateHistoryAsync([torrent.InfoHash], query.Step, query.From, query.To, cancellationToken);
        return TypedResults.Ok(new RateHistory(torrent.InfoHash, query.From, query.To, (int)query.Step, points));
    }

    public static async Task<Results<Ok<RateHistory>, NotFound, ProblemHttpResult>> GetUserHistory(string userId, string? from, string? to, string? step,
        LiveStatistics live, IStatisticsStore store, TimeProvider time, string? owner, CancellationToken cancellationToken)
    {
        if (!HistoryQuery.TryParse(from, to, step, time.GetUtcNow(), out var query, out var problem))
        {
            return problem;
        }
        if ((owner is not null && owner != userId) || !live.KnowsUser(userId))
        {
            return TypedResults.NotFound();
        }
        var points = await store.GetRateHistoryAsync(live.TorrentsOf(userId), query.Step, query.From, query.To, cancellationToken);
        return TypedResults.Ok(new RateHistory(userId, query.From, query.To, (int)query.Step, points));
    }
}

/// <summary>The <c>from</c>, <c>to</c> and <c>step</c> of a history request, checked.</summary>
public readonly record struct HistoryQuery(DateTimeOffset From, DateTimeOffset To, HistoryStep Step)
{
    // A request made at the edge of a retention window should not fail on a second's difference.
    private static readonly TimeSpan RetentionSlack = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Defaults: <c>to</c> now, <c>from</c> an hour before <c>to</c>, <c>step</c> the finest still kept at <c>from</c>.
    /// Times are ISO 8601 (UTC unless an offset is given); <c>step</c> is <c>1s</c>, <c>1m</c> or <c>1h</c>
    /// (or <c>second</c>, <c>minute</c>, <c>hour</c>, or 1, 60, 3600).
    /// </summary>
    public static bool TryParse(string? from, string? to, string? step, DateTimeOffset now, out HistoryQuery query, out ProblemHttpResult problem)
    {
        query = default;
        problem = null!;
        if (!TryTime(to, now, out var end))
        {
            problem = Bad("Invalid 'to'", $"'to' must be an ISO 8601 time such as {now:yyyy-MM-ddTHH:mm:ssZ}, not '{to}'.");
            return false;
        }
        if (!TryTime(from, end - TimeSpan.FromHours(1), out var start))
        {
            problem = Bad("Invalid 'from'", $"'from' must be an ISO 8601 time such as {now.AddHours(-1):yyyy-MM-ddTHH:mm:ssZ}, not '{from}'.");
            return false;
        }
        if (start >= end)
        {
            problem = Bad("Invalid range", "'from' must be before 'to'.");
            return false;
        }
        HistoryStep resolution;
        if (string.IsNullOrEmpty(step))
        {
            resolution = start >= now - RateHistoryRetention.Second - RetentionSlack ? HistoryStep.Second
                : start >= now - RateHistoryRetention.Minute - RetentionSlack ? HistoryStep.Minute
                : HistoryStep.Hour;
        }
        else if (ParseStep(step) is { } parsed)
        {
            resolution = parsed;
        }
        else
        {
            problem = Bad("Invalid 'step'", $"'step' is 1s, 1m or 1h, not '{step}'.");
            return false;
        }
        if (RateHistoryRetention.For(resolution) is { } kept && start < now - kept - RetentionSlack)
        {
            problem = Bad("Step not kept that far back",
                $"History per {resolution.ToString().ToLowerInvariant()} is kept for {Describe(kept)}; ask from {now - kept:yyyy-MM-ddTHH:mm:ssZ} on, or use a coarser step.");
            return false;
        }
        if ((end - start).TotalSeconds / (int)resolution > StatisticsApi.MaxHistoryPoints)
        {
            problem = Bad("Too many points", $"At most {StatisticsApi.MaxHistoryPoints} points per request: shorten the range or use a coarser step.");
            return false;
        }
        query = new HistoryQuery(start, end, resolution);
        return true;
    }

    private static bool TryTime(string? text, DateTimeOffset fallback, out DateTimeOffset value)
    {
        if (string.IsNullOrEmpty(text))
        {
            value = fallback;
            return true;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value);
    }

    private static HistoryStep? ParseStep(string text) => text.Trim().ToLowerInvariant() switch
    {
        "1s" or "s" or "second" or "1" => HistoryStep.Second,
        "1m" or "m" or "minute" or "60" => HistoryStep.Minute,
        "1h" or "h" or "hour" or "3600" => HistoryStep.Hour,
        _ => null,
    };

    private static string Describe(TimeSpan span) => span >= TimeSpan.FromDays(1) ? $"{span.TotalDays:0} day(s)" : $"{span.TotalHours:0} hour(s)";

    private static ProblemHttpResult Bad(string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status400BadRequest);
}
