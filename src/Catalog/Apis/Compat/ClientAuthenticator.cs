using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.Model;

namespace TorrentEdge.Catalog.Apis.Compat;

/// <summary>
/// Who calls a download-client API (qBittorrent's Web API, Transmission's RPC): the same accounts as the REST API, by
/// what those clients send: an access token or personal API token as Bearer (already authenticated by Catalog's
/// scheme), HTTP Basic with the password or a personal API token as password, or qBittorrent's <c>SID</c> session.
/// </summary>
public sealed partial class ClientAuthenticator(
    ICatalogStore store,
    IPasswordHasher<User> hasher,
    IOptions<AuthOptions> authOptions,
    TimeProvider time,
    ILogger<ClientAuthenticator> logger)
{
    /// <summary>How long a session cookie is good for (qBittorrent's default session timeout is an hour of inactivity).</summary>
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromHours(24);

    // Basic auth comes with every request of a polling client; PBKDF2 on each would cost ~0.1 s of CPU per request. A
    // verified pair is remembered briefly by its SHA-256 (never the password), and the account is re-read every time.
    private static readonly TimeSpan BasicCacheLifetime = TimeSpan.FromMinutes(1);
    private const int BasicCacheLimit = 1024;
    private readonly ConcurrentDictionary<string, (string UserId, DateTimeOffset Until)> _basicCache = new(StringComparer.Ordinal);

    /// <summary>The outcome of reading credentials from a request.</summary>
    public readonly record struct Outcome(bool CredentialsGiven, ClaimsPrincipal? Principal, bool Disabled = false);

    /// <summary>The caller of <paramref name="context"/> as a person (not a service), or no principal.</summary>
    public async Task<Outcome> AuthenticateAsync(HttpContext context, string? sessionId)
    {
        var cancellationToken = context.RequestAborted;
        var principal = context.User;
        if (principal.Identity?.IsAuthenticated == true)
        {
            return principal.IsService() ? new Outcome(true, null) : new Outcome(true, principal);
        }
        var header = context.Request.Headers.Authorization.ToString();
        var bearerGiven = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase);
        if (!string.IsNullOrEmpty(sessionId) && await FromSessionAsync(sessionId, cancellationToken) is { } fromSession)
        {
            return new Outcome(true, fromSession);
        }
        if (TryReadBasic(header, out var userName, out var password))
        {
            return await FromPasswordAsync(userName, password, cancellationToken);
        }
        return new Outcome(bearerGiven || !string.IsNullOrEmpty(sessionId), null);
    }

    /// <summary>A user name and password (or personal API token as the password): one check with the log-in's rules.</summary>
    public async Task<Outcome> FromPasswordAsync(string userName, string password, CancellationToken cancellationToken)
    {
        if (userName.Length > 64 || password.Length > 1024)
        {
            return new Outcome(true, null);
        }
        if (password.StartsWith(TokenService.ApiTokenPrefix, StringComparison.Ordinal))
        {
            var token = await store.FindApiTokenAsync(TokenService.Hash(password), cancellationToken);
            if (token is null || token.RevokedAt is not null || token.ExpiresAt <= time.GetUtcNow())
            {
                return new Outcome(true, null);
            }
            return await FromUserIdAsync(token.UserId, cancellationToken);
        }
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(User.Normalize(userName) + "\0" + password)));
        var now = time.GetUtcNow();
        if (_basicCache.TryGetValue(key, out var cached) && cached.Until > now)
        {
            return await FromUserIdAsync(cached.UserId, cancellationToken);
        }
        var (user, check) = await AuthApi.CheckPasswordAsync(userName, password, store, hasher, authOptions.Value, now, logger, cancellationToken);
        if (check == AuthApi.PasswordCheck.Invalid)
        {
            LogPasswordRefused(logger);
        }
        if (user is null)
        {
            return new Outcome(true, null, check == AuthApi.PasswordCheck.Disabled);
        }
        if (_basicCache.Count >= BasicCacheLimit)
        {
            _basicCache.Clear();
        }
        _basicCache[key] = (user.Id, now + BasicCacheLifetime);
        return new Outcome(true, Principal(user));
    }

    /// <summary>Starts a session for the user: the opaque value of the cookie (only its hash is stored).</summary>
    public async Task<string> StartSessionAsync(ClaimsPrincipal principal, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var sessionId = TokenService.NewOpaqueToken();
        await store.AddRefreshTokenAsync(new RefreshToken
        {
            Id = Guid.NewGuid().ToString("N"),
            TokenHash = TokenService.Hash(sessionId),
            UserId = principal.GetUserId(),
            FamilyId = AuthApi.ClientSessionFamilyPrefix + Guid.NewGuid().ToString("N"),
            CreatedAt = now,
            ExpiresAt = now + SessionLifetime,
        }, cancellationToken);
        return sessionId;
    }

    /// <summary>Ends the session the cookie names, if it is one.</summary>
    public async Task EndSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (sessionId.Length <= 128 && await store.FindRefreshTokenAsync(TokenService.Hash(sessionId), cancellationToken) is { } stored
            && stored.FamilyId.StartsWith(AuthApi.ClientSessionFamilyPrefix, StringComparison.Ordinal))
        {
            await store.TryRevokeRefreshTokenAsync(stored.Id, time.GetUtcNow(), cancellationToken);
        }
    }

    private async Task<ClaimsPrincipal?> FromSessionAsync(string sessionId, CancellationToken cancellationToken)
    {
        if (sessionId.Length > 128)
        {
            return null;
        }
        var stored = await store.FindRefreshTokenAsync(TokenService.Hash(sessionId), cancellationToken);
        if (stored is null || stored.RevokedAt is not null || stored.ExpiresAt <= time.GetUtcNow()
            || !stored.FamilyId.StartsWith(AuthApi.ClientSessionFamilyPrefix, StringComparison.Ordinal))
        {
            return null;
        }
        return (await FromUserIdAsync(stored.UserId, cancellationToken)).Principal;
    }

    private async Task<Outcome> FromUserIdAsync(string userId, CancellationToken cancellationToken)
    {
        var user = await store.FindUserByIdAsync(userId, cancellationToken);
        return user is null || user.Disabled ? new Outcome(true, null, user?.Disabled == true) : new Outcome(true, Principal(user));
    }

    private static ClaimsPrincipal Principal(User user) => new(new ClaimsIdentity(
        [
            new Claim(CatalogClaims.Subject, user.Id),
            new Claim(CatalogClaims.Name, user.UserName),
            new Claim(CatalogClaims.Role, user.Role),
        ],
        "DownloadClient", CatalogClaims.Name, CatalogClaims.Role));

    private static bool TryReadBasic(string header, out string userName, out string password)
    {
        userName = password = "";
        if (!AuthenticationHeaderValue.TryParse(header, out var value) || !string.Equals(value.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            || value.Parameter is not { Length: > 0 and <= 4096 } encoded)
        {
            return false;
        }
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException)
        {
            return false;
        }
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return false;
        }
        userName = decoded[..colon];
        password = decoded[(colon + 1)..];
        return true;
    }

    // Neither the name nor the password is logged: a password typed into the name field would end up in the logs.
    [LoggerMessage(Level = LogLevel.Information, Message = "A download-client request with a wrong user name or password was refused")]
    private static partial void LogPasswordRefused(ILogger logger);
}
