using Microsoft.AspNetCore.Http.HttpResults;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.IntegrationEvents;
using TorrentEdge.Catalog.Model;

namespace TorrentEdge.Catalog.Apis;

/// <summary>Administration of accounts: list users, change roles, disable and enable.</summary>
public static class AdminApi
{
    public const string AdminPolicy = "admin";

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/admin/users").WithTags("Admin").RequireAuthorization(AdminPolicy);
        api.MapGet("/", ListUsers);
        api.MapPut("/{id}/role", SetRole);
        api.MapPost("/{id}/disable", DisableUser);
        api.MapPost("/{id}/enable", EnableUser);
        api.MapPut("/{id}/quota", SetQuota);
        var torrents = app.MapGroup("/api/admin/torrents").WithTags("Admin").RequireAuthorization(AdminPolicy);
        torrents.MapPost("/republish", Republish);
        return app;
    }

    public static async Task<Ok<IReadOnlyList<UserView>>> ListUsers(ICatalogStore store, CancellationToken cancellationToken)
    {
        var users = await store.ListUsersAsync(cancellationToken);
        return TypedResults.Ok<IReadOnlyList<UserView>>(users.Select(UserView.From).ToList());
    }

    public static async Task<Results<Ok<UserView>, ProblemHttpResult>> SetRole(
        string id, RoleRequest? request, ICatalogStore store, UserAccessSignal access, CancellationToken cancellationToken)
    {
        if (!Roles.IsValid(request?.Role))
        {
            return Problems.BadRequest("Invalid role", "role is admin or user.");
        }
        var user = await store.FindUserByIdAsync(id, cancellationToken);
        if (user is null)
        {
            return UnknownUser();
        }
        if (user.IsAdmin && request!.Role != Roles.Admin && await IsLastAdminAsync(store, user, cancellationToken))
        {
            return Problems.Conflict("Last admin", "The last enabled admin cannot be demoted.");
        }
        var updated = await store.SetUserRoleAsync(user.Id, request!.Role!, cancellationToken);
        if (updated is null)
        {
            return UnknownUser();
        }
        // The other services refuse tokens that name the old role once torrent-users says so.
        access.Notify(updated.Id);
        return TypedResults.Ok(UserView.From(updated));
    }

    public static async Task<Results<Ok<UserView>, ProblemHttpResult>> DisableUser(
        string id, ICatalogStore store, UserAccessSignal access, TimeProvider time, CancellationToken cancellationToken)
    {
        var user = await store.FindUserByIdAsync(id, cancellationToken);
        if (user is null)
        {
            return UnknownUser();
        }
        if (user.IsAdmin && await IsLastAdminAsync(store, user, cancellationToken))
        {
            return Problems.Conflict("Last admin", "The last enabled admin cannot be disabled.");
        }
        var updated = await store.SetUserDisabledAsync(user.Id, disabled: true, cancellationToken);
        if (updated is null)
        {
            return UnknownUser();
        }
        // Here access tokens are refused from the next request (the user is checked on each); refresh tokens end now; Notifier
        // and Analytics refuse them (and close hub connections) when torrent-users brings the status.
        access.Notify(updated.Id);
        await store.RevokeRefreshTokensAsync(user.Id, null, time.GetUtcNow(), cancellationToken);
        return TypedResults.Ok(UserView.From(updated));
    }

    public static async Task<Results<Ok<UserView>, ProblemHttpResult>> EnableUser(
        string id, ICatalogStore store, UserAccessSignal access, CancellationToken cancellationToken)
    {
        var updated = await store.SetUserDisabledAsync(id, disabled: false, cancellationToken);
        if (updated is null)
        {
            return UnknownUser();
        }
        access.Notify(updated.Id);
        return TypedResults.Ok(UserView.From(updated));
    }

    /// <summary>Overrides a user's quotas; null restores the configured default, 0 means no limit.</summary>
    public static async Task<Results<Ok<UserView>, ProblemHttpResult>> SetQuota(
        string id, QuotaRequest? request, ICatalogStore store, CancellationToken cancellationToken)
    {
        if (request is null || request.MaxTorrents < 0 || request.MaxBytes < 0)
        {
            return Problems.BadRequest("Invalid quota",
                "Give {\"maxTorrents\": n, \"maxBytes\": n}: 0 or more (0: no limit), or null for the configured default.");
        }
        var updated = await store.SetUserQuotaAsync(id, request.MaxTorrents, request.MaxBytes, cancellationToken);
        return updated is null ? UnknownUser() : TypedResults.Ok(UserView.From(updated));
    }

    /// <summary>
    /// Queues the desired state of every torrent to be published to torrent-specs again (after a topic was lost, recreated
    /// or emptied by hand); the outbox sends them at once. Workers ignore a spec whose revision they already have.
    /// </summary>
    public static async Task<Accepted<RepublishResponse>> Republish(ICatalogStore store, OutboxSignal outbox, CancellationToken cancellationToken)
    {
        var queued = await store.MarkAllUnpublishedAsync(cancellationToken);
        outbox.Notify();
        return TypedResults.Accepted((string?)null, new RepublishResponse(queued));
    }

    private static async Task<bool> IsLastAdminAsync(ICatalogStore store, User user, CancellationToken cancellationToken)
    {
        var users = await store.ListUsersAsync(cancellationToken);
        return !users.Any(u => u.Id != user.Id && u.IsAdmin && !u.Disabled);
    }

    private static ProblemHttpResult UnknownUser() => Problems.NotFound("Unknown user", "No user has this id.");
}

public sealed record RoleRequest(string? Role);

public sealed record QuotaRequest(long? MaxTorrents, long? MaxBytes);

/// <summary>How many torrents were queued to be published again.</summary>
public sealed record RepublishResponse(long Queued);
