using System.Security.Claims;
using Microsoft.AspNetCore.SignalR;

namespace TorrentEdge.Notifier.Hubs;

/// <summary>The hub's user id: the JWT <c>sub</c> claim (or NameIdentifier); in Development without authentication, <c>?user=</c>.</summary>
public sealed class ClaimsUserIdProvider(bool allowQueryUser) : IUserIdProvider
{
    public string? GetUserId(HubConnectionContext connection)
    {
        var user = connection.User;
        var id = user.FindFirstValue("sub") ?? user.FindFirstValue(ClaimTypes.NameIdentifier);
        if (id is not null || !allowQueryUser)
        {
            return id;
        }
        // Only when no authentication is configured in Development (DefaultAuthentication.IsEnabled):
        // lets the UI and tests run before identity exists. Never enabled otherwise.
        var query = connection.GetHttpContext()?.Request.Query["user"].ToString();
        return string.IsNullOrWhiteSpace(query) ? null : query;
    }
}
