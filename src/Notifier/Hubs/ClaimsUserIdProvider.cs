using System.Security.Claims;
using Microsoft.AspNetCore.SignalR;

namespace TorrentEdge.Notifier.Hubs;

/// <summary>The hub's user id: the JWT <c>sub</c> claim (or NameIdentifier); in Development without authentication, <c>?user=</c>.</summary>
public sealed class ClaimsUserIdProvider(bool allowQueryUser) : IUserIdProvider
{
    public string? GetUserId(HubConnectionContext connection) => UserIdOf(connection.User, connection.GetHttpContext(), allowQueryUser);

    /// <summary>The same id for an HTTP request to the hub (negotiate), before any connection exists.</summary>
    public string? GetUserId(HttpContext context) => UserIdOf(context.User, context, allowQueryUser);

    private static string? UserIdOf(ClaimsPrincipal user, HttpContext? context, bool allowQueryUser)
    {
        var id = user.FindFirstValue("sub") ?? user.FindFirstValue(ClaimTypes.NameIdentifier);
        if (id is not null || !allowQueryUser)
        {
            return id;
        }
        // Only when no authentication is configured in Development (DefaultAuthentication.IsEnabled):
        // lets the UI and tests run before identity exists. Never enabled otherwise.
        var query = context?.Request.Query["user"].ToString();
        return string.IsNullOrWhiteSpace(query) ? null : query;
    }
}
