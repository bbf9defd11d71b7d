using System.Security.Claims;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.Model;

namespace TorrentEdge.Catalog.Apis;

/// <summary>Accounts and tokens: register, log in, refresh, log out, who am I, the JWKS and personal API tokens.</summary>
public static partial class AuthApi
{
    public const string LoginRateLimitPolicy = "login";

    /// <summary>
    /// Family of the refresh-token records that are download-client sessions (qBittorrent's SID cookie): revoked with the
    /// user's other log-ins, never accepted by <c>/api/auth/refresh</c>.
    /// </summary>
    internal const string ClientSessionFamilyPrefix = "client-session:";

    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder app)
    {
        // The JWKS at its well-known address, and under /api so the Gateway exposes it with the rest of the API.
        app.MapGet("/.well-known/jwks.json", GetJwks).AllowAnonymous().ExcludeFromDescription();

        var api = app.MapGroup("/api/auth").WithTags("Auth");
        api.MapGet("/jwks", GetJwks).AllowAnonymous();
        api.MapPost("/register", Register).AllowAnonymous().RequireRateLimiting(LoginRateLimitPolicy);
        api.MapPost("/login", Login).AllowAnonymous().RequireRateLimiting(LoginRateLimitPolicy);
        api.MapPost("/refresh", Refresh).AllowAnonymous().RequireRateLimiting(LoginRateLimitPolicy);
        api.MapPost("/logout", Logout).AllowAnonymous();
        api.MapPost("/service-token", ServiceToken).AllowAnonymous().RequireRateLimiting(LoginRateLimitPolicy);
        api.MapGet("/me", Me).RequireAuthorization();
        api.MapGet("/tokens", ListApiTokens).RequireAuthorization();
        api.MapPost("/tokens", CreateApiToken).RequireAuthorization();
        api.MapDelete("/tokens/{id}", RevokeApiToken).RequireAuthorization();
        return app;
    }

    public static Ok<JwksDocument> GetJwks(SigningKeys keys, HttpContext context)
    {
        context.Response.Headers.CacheControl = "public, max-age=300";
        return TypedResults.Ok(keys.Jwks);
    }

    public static async Task<Results<Created<UserView>, ProblemHttpResult>> Register(
        RegisterRequest? request, ICatalogStore store, IPasswordHasher<User> hasher, IOptions<AuthOptions> options,
        TimeProvider time, CancellationToken cancellationToken)
    {
        if (request?.Username is not { } username || !UserNamePattern().IsMatch(username))
        {
            return Problems.BadRequest("Invalid user name", "A user name is 3 to 32 letters, digits, '.', '_' or '-'.");
        }
        if (CheckPassword(request.Password, username, options.Value.MinPasswordLength) is { } weakness)
        {
            return Problems.BadRequest("Weak password", weakness);
        }
        var user = new User
        {
            Id = Guid.NewGuid().ToString("N"),
            UserName = username,
            NormalizedUserName = User.Normalize(username),
            PasswordHash = "",
            CreatedAt = time.GetUtcNow(),
        };
        user.PasswordHash = hasher.HashPassword(user, request.Password!);
        var created = await store.CreateUserAsync(user, cancellationToken);
        if (created is null)
        {
            return Problems.Conflict("User name taken", $"The user name '{username}' is already registered.");
        }
        return TypedResults.Created("/api/auth/me", UserView.From(created));
    }

    /// <summary>Why a password is too weak, or null when it is acceptable.</summary>
    internal static string? CheckPassword(string? password, string username, int minLength)
    {
        if (string.IsNullOrEmpty(password) || password.Length < minLength)
        {
            return $"A password has at least {minLength} characters.";
        }
        if (password.Length > 256)
        {
            return "A password has at most 256 characters.";
        }
        var classes = (password.Any(char.IsLower) ? 1 : 0) + (password.Any(char.IsUpper) ? 1 : 0)
            + (password.Any(char.IsDigit) ? 1 : 0) + (password.Any(c => !char.IsLetterOrDigit(c)) ? 1 : 0);
        if (classes < 2)
        {
            return "A password mixes at least two of: lower case, upper case, digits, symbols.";
        }
        if (password.Contains(username, StringComparison.OrdinalIgnoreCase))
        {
            return "A password does not contain the user name.";
        }
        return null;
    }

    public static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> Login(
        LoginRequest? request, ICatalogStore store, IPasswordHasher<User> hasher, TokenService tokens,
        IOptions<AuthOptions> options, TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        var logger = loggers.CreateLogger(typeof(AuthApi));
        if (string.IsNullOrEmpty(request?.Username) || string.IsNullOrEmpty(request.Password) || request.Username.Length > 64)
        {
            return Problems.BadRequest("Invalid log-in", "Give a username and a password.");
        }
        var now = time.GetUtcNow();
        var (current, outcome) = await CheckPasswordAsync(request.Username, request.Password, store, hasher, options.Value, now, logger, cancellationToken);
        return outcome switch
        {
            PasswordCheck.Invalid => InvalidCredentials(),
            PasswordCheck.Disabled => AccountDisabled(),
            _ => TypedResults.Ok(await IssueAsync(current!, Guid.NewGuid().ToString("N"), store, tokens, options.Value, now, cancellationToken)),
        };
    }

    /// <summary>The outcome of checking a user name and password.</summary>
    internal enum PasswordCheck { Valid, Invalid, Disabled }

    /// <summary>
    /// Checks a user name and password with the log-in's rules (constant work for unknown names, lockout, failed-login
    /// count, rehash); the one check behind every password log-in, including the download-client APIs' Basic auth.
    /// </summary>
    internal static async Task<(User? User, PasswordCheck Outcome)> CheckPasswordAsync(
        string username, string password, ICatalogStore store, IPasswordHasher<User> hasher, AuthOptions options,
        DateTimeOffset now, ILogger logger, CancellationToken cancellationToken)
    {
        var user = await store.FindUserByNameAsync(User.Normalize(username), cancellationToken);
        if (user is null)
        {
            // Spend the same time as a real check so response times do not reveal which names exist.
            hasher.VerifyHashedPassword(DummyUser, DummyHash, password);
            return (null, PasswordCheck.Invalid);
        }
        var verdict = hasher.VerifyHashedPassword(user, user.PasswordHash, password);
        if (user.LockoutEnd > now)
        {
            // Hashed above all the same, and answered like an unknown name: a distinct status (it was 423) or a quick
            // answer would tell an attacker which names exist. The right password does not lift the lockout.
            LogLoginWhileLockedOut(logger, user.Id);
            return (null, PasswordCheck.Invalid);
        }
        if (verdict == PasswordVerificationResult.Failed)
        {
            var counted = await store.RecordFailedLoginAsync(user.Id, options.MaxFailedLogins, now + options.LockoutDuration, cancellationToken);
            if (counted?.LockoutEnd > now)
            {
                LogLockedOut(logger, user.Id);
            }
            return (null, PasswordCheck.Invalid);
        }
        if (user.Disabled)
        {
            return (null, PasswordCheck.Disabled);
        }
        var rehashed = verdict == PasswordVerificationResult.SuccessRehashNeeded ? hasher.HashPassword(user, password) : null;
        // Writes only what a log-in changes, and only if the account is still enabled: an admin's disable or demotion
        // made since the read above stays, and the token carries the role as stored now.
        var current = await store.RecordSuccessfulLoginAsync(user.Id, rehashed, cancellationToken);
        if (current is null)
        {
            return (null, PasswordCheck.Disabled);
        }
        return (current, PasswordCheck.Valid);
    }

    private static ProblemHttpResult InvalidCredentials() => Problems.Unauthorized("Invalid credentials", "The user name or password is wrong.");

    private static ProblemHttpResult AccountDisabled() => Problems.Forbidden("Account disabled", "This account has been disabled by an administrator.");

    private static readonly User DummyUser = new() { Id = "", UserName = "", NormalizedUserName = "", PasswordHash = "" };
    private static readonly string DummyHash = new PasswordHasher<User>().HashPassword(DummyUser, "not-a-password-0");

    private static async Task<TokenResponse> IssueAsync(
        User user, string familyId, ICatalogStore store, TokenService tokens, AuthOptions options, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var (accessToken, expiresIn) = tokens.CreateAccessToken(user);
        var refreshToken = TokenService.NewOpaqueToken();
        await store.AddRefreshTokenAsync(new RefreshToken
        {
            Id = Guid.NewGuid().ToString("N"),
            TokenHash = TokenService.Hash(refreshToken),
            UserId = user.Id,
            FamilyId = familyId,
            CreatedAt = now,
            ExpiresAt = now + options.RefreshTokenLifetime,
        }, cancellationToken);
        return new TokenResponse(accessToken, refreshToken, expiresIn, "Bearer");
    }

    public static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> Refresh(
        RefreshRequest? request, ICatalogStore store, TokenService tokens, IOptions<AuthOptions> options,
        TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request?.RefreshToken) || request.RefreshToken.Length > 512)
        {
            return Problems.BadRequest("Invalid refresh", "Give the refresh token.");
        }
        var now = time.GetUtcNow();
        var stored = await store.FindRefreshTokenAsync(TokenService.Hash(request.RefreshToken), cancellationToken);
        // A download-client session (qBittorrent's SID) is stored like a refresh token but buys no tokens.
        if (stored is null || stored.ExpiresAt <= now || stored.FamilyId.StartsWith(ClientSessionFamilyPrefix, StringComparison.Ordinal))
        {
            return Problems.Unauthorized("Invalid refresh token", "The refresh token is unknown or expired.");
        }
        if (!await store.TryRevokeRefreshTokenAsync(stored.Id, now, cancellationToken))
        {
            // A rotated token came back: someone holds a copy. End the whole log-in so neither copy works.
            await store.RevokeRefreshTokensAsync(stored.UserId, stored.FamilyId, now, cancellationToken);
            LogRefreshReuse(loggers.CreateLogger(typeof(AuthApi)), stored.UserId);
            return Problems.Unauthorized("Refresh token reuse detected",
                "This refresh token was already used; every token of this log-in has been revoked. Log in again.");
        }
        var user = await store.FindUserByIdAsync(stored.UserId, cancellationToken);
        if (user is null || user.Disabled)
        {
            return Problems.Unauthorized("Account disabled", "This account has been disabled.");
        }
        return TypedResults.Ok(await IssueAsync(user, stored.FamilyId, store, tokens, options.Value, now, cancellationToken));
    }

    /// <summary>Ends a log-in: with a refresh token, that log-in; otherwise (authenticated) every log-in of the caller.</summary>
    public static async Task<Results<NoContent, ProblemHttpResult>> Logout(
        RefreshRequest? request, ClaimsPrincipal principal, ICatalogStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (!string.IsNullOrEmpty(request?.RefreshToken))
        {
            var stored = await store.FindRefreshTokenAsync(TokenService.Hash(request.RefreshToken), cancellationToken);
            if (stored is not null)
            {
                await store.RevokeRefreshTokensAsync(stored.UserId, stored.FamilyId, now, cancellationToken);
            }
            return TypedResults.NoContent();
        }
        if (principal.Identity?.IsAuthenticated != true)
        {
            return Problems.Unauthorized("Not logged in", "Give a refresh token or an access token.");
        }
        await store.RevokeRefreshTokensAsync(principal.GetUserId(), null, now, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Client credentials for services: a configured client id and its secret buy a short-lived service token (role
    /// <c>service</c>, its own audience) that reads any torrent's metainfo and nothing else.
    /// </summary>
    public static Results<Ok<ServiceTokenResponse>, ProblemHttpResult> ServiceToken(
        ServiceTokenRequest? request, TokenService tokens, ILoggerFactory loggers)
    {
        if (string.IsNullOrEmpty(request?.ClientId) || string.IsNullOrEmpty(request.ClientSecret)
            || request.ClientId.Length > 128 || request.ClientSecret.Length > 1024)
        {
            return Problems.BadRequest("Invalid request", "Give {\"clientId\": \"...\", \"clientSecret\": \"...\"}.");
        }
        if (!tokens.CheckServiceClient(request.ClientId, request.ClientSecret))
        {
            LogServiceClientRefused(loggers.CreateLogger(typeof(AuthApi).FullName!));
            return Problems.Unauthorized("Invalid client credentials", "The client id or secret is wrong.");
        }
        var (token, expiresIn) = tokens.CreateServiceToken(request.ClientId);
        return TypedResults.Ok(new ServiceTokenResponse(token, expiresIn, "Bearer"));
    }

    public static async Task<Results<Ok<UserView>, ProblemHttpResult>> Me(ClaimsPrincipal principal, ICatalogStore store, CancellationToken cancellationToken)
    {
        var user = await store.FindUserByIdAsync(principal.GetUserId(), cancellationToken);
        return user is null ? Problems.NotFound("Unknown user", "The account no longer exists.") : TypedResults.Ok(UserView.From(user));
    }

    public static async Task<Ok<IReadOnlyList<ApiTokenView>>> ListApiTokens(ClaimsPrincipal principal, ICatalogStore store, CancellationToken cancellationToken)
    {
        var tokens = await store.ListApiTokensAsync(principal.GetUserId(), cancellationToken);
        return TypedResults.Ok<IReadOnlyList<ApiTokenView>>(tokens.Select(ApiTokenView.From).ToList());
    }

    public static async Task<Results<Created<CreatedApiToken>, ProblemHttpResult>> CreateApiToken(
        CreateApiTokenRequest? request, ClaimsPrincipal principal, ICatalogStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(request?.Name) || request.Name.Length > 100)
        {
            return Problems.BadRequest("Invalid token name", "A token has a name of 1 to 100 characters.");
        }
        if (request.ExpiresInDays is < 1 or > 3650)
        {
            return Problems.BadRequest("Invalid expiry", "expiresInDays is between 1 and 3650, or absent for no expiry.");
        }
        var now = time.GetUtcNow();
        var secret = TokenService.NewOpaqueToken(TokenService.ApiTokenPrefix);
        var token = new ApiToken
        {
            Id = Guid.NewGuid().ToString("N"),
            UserId = principal.GetUserId(),
            Name = request.Name.Trim(),
            TokenHash = TokenService.Hash(secret),
            CreatedAt = now,
            ExpiresAt = request.ExpiresInDays is { } days ? now.AddDays(days) : null,
        };
        await store.AddApiTokenAsync(token, cancellationToken);
        return TypedResults.Created($"/api/auth/tokens/{token.Id}", new CreatedApiToken(token.Id, token.Name, secret, token.CreatedAt, token.ExpiresAt));
    }

    public static async Task<Results<NoContent, ProblemHttpResult>> RevokeApiToken(
        string id, ClaimsPrincipal principal, ICatalogStore store, TimeProvider time, CancellationToken cancellationToken)
    {
        return await store.RevokeApiTokenAsync(principal.GetUserId(), id, time.GetUtcNow(), cancellationToken)
            ? TypedResults.NoContent()
            : Problems.NotFound("Unknown token", "No active API token of yours has this id.");
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{3,32}$")]
    private static partial Regex UserNamePattern();

    [LoggerMessage(Level = LogLevel.Warning, Message = "User {UserId} is locked out after repeated failed log-ins")]
    private static partial void LogLockedOut(ILogger logger, string userId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Log-in refused: user {UserId} is locked out")]
    private static partial void LogLoginWhileLockedOut(ILogger logger, string userId);

    // Neither the client id nor the secret is logged: a secret pasted into the id field would end up in the logs.
    [LoggerMessage(Level = LogLevel.Warning, Message = "A service token request with wrong client credentials was refused")]
    private static partial void LogServiceClientRefused(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refresh token reuse for user {UserId}; the log-in was revoked")]
    private static partial void LogRefreshReuse(ILogger logger, string userId);
}

public sealed record RegisterRequest(string? Username, string? Password);

public sealed record LoginRequest(string? Username, string? Password);

public sealed record RefreshRequest(string? RefreshToken);

public sealed record TokenResponse(string AccessToken, string RefreshToken, int ExpiresIn, string TokenType);

public sealed record ServiceTokenRequest(string? ClientId, string? ClientSecret);

/// <summary>A service token: no refresh token, the client asks again with its credentials.</summary>
public sealed record ServiceTokenResponse(string AccessToken, int ExpiresIn, string TokenType);

public sealed record CreateApiTokenRequest(string? Name, int? ExpiresInDays);

/// <summary>A newly created API token: the only time <see cref="Token"/> is shown.</summary>
public sealed record CreatedApiToken(string Id, string Name, string Token, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);

public sealed record ApiTokenView(string Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt)
{
    public static ApiTokenView From(ApiToken t) => new(t.Id, t.Name, t.CreatedAt, t.ExpiresAt, t.RevokedAt);
}

/// <param name="MaxTorrents">An admin's quota override (0: no limit); null: the configured default.</param>
public sealed record UserView(string Id, string Username, string Role, bool Disabled, DateTimeOffset CreatedAt, DateTimeOffset? LockoutEnd,
    long? MaxTorrents = null, long? MaxBytes = null)
{
    public static UserView From(User u) => new(u.Id, u.UserName, u.Role, u.Disabled, u.CreatedAt, u.LockoutEnd, u.MaxTorrents, u.MaxBytes);
}
