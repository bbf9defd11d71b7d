using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace TorrentEdge.Catalog.Infrastructure;

/// <summary>Authenticates <c>Authorization: Bearer te_pat_...</c> personal API tokens against their stored hashes.</summary>
public sealed class ApiTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ICatalogStore store,
    TimeProvider time) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiToken";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase)
            || !header.AsSpan(bearer.Length).Trim().StartsWith(TokenService.ApiTokenPrefix, StringComparison.Ordinal))
        {
            return AuthenticateResult.NoResult();
        }
        var token = header[bearer.Length..].Trim();
        var stored = await store.FindApiTokenAsync(TokenService.Hash(token), Context.RequestAborted);
        var now = time.GetUtcNow();
        if (stored is null || stored.RevokedAt is not null || stored.ExpiresAt <= now)
        {
            return AuthenticateResult.Fail("The API token is unknown, revoked or expired.");
        }
        var user = await store.FindUserByIdAsync(stored.UserId, Context.RequestAborted);
        if (user is null || user.Disabled)
        {
            return AuthenticateResult.Fail("The account is disabled.");
        }
        var identity = new ClaimsIdentity(
            [
                new Claim(CatalogClaims.Subject, user.Id),
                new Claim(CatalogClaims.Name, user.UserName),
                new Claim(CatalogClaims.Role, user.Role),
                new Claim("token_id", stored.Id),
            ],
            SchemeName, CatalogClaims.Name, CatalogClaims.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }
}

/// <summary>Reads who the caller is from the authenticated principal.</summary>
public static class ClaimsPrincipalExtensions
{
    public static string GetUserId(this ClaimsPrincipal principal) =>
        principal.FindFirstValue(CatalogClaims.Subject) ?? throw new InvalidOperationException("The principal has no subject.");

    public static bool IsAdmin(this ClaimsPrincipal principal) => principal.IsInRole(Model.Roles.Admin);

    /// <summary>A service client's token (see <see cref="TokenService.CreateServiceToken"/>), not a user.</summary>
    public static bool IsService(this ClaimsPrincipal principal) => principal.IsInRole(Model.Roles.Service);
}
