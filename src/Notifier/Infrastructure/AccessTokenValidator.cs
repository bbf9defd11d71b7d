using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace TorrentEdge.Notifier.Infrastructure;

/// <summary>The outcome of checking a token sent in a message: the user and until when, or why not.</summary>
public sealed record TokenCheck(string? UserId, DateTimeOffset ExpiresAt, string? Error)
{
    public bool Succeeded => UserId is not null;
}

/// <summary>
/// Checks a Catalog access token that arrives inside a Socket.IO message (<c>authenticate</c>) exactly as the JWT bearer
/// handler checks one in a request: the same <see cref="JwtBearerOptions"/> (ES256 only, issuer, audience, lifetime) and
/// the same JWKS. In a bare Development run (no authentication configured) a plain user name stands in, as <c>?user=</c> does on the hub.
/// </summary>
public sealed class AccessTokenValidator(IOptionsMonitor<JwtBearerOptions> bearer, IConfiguration configuration, IHostEnvironment environment, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public bool Enabled { get; } = DefaultAuthentication.IsEnabled(configuration, environment);

    public async Task<TokenCheck> ValidateAsync(string? token, string? developmentUser, CancellationToken cancellationToken)
    {
        if (!Enabled)
        {
            return developmentUser is { Length: > 0 } user
                ? new TokenCheck(user, DateTimeOffset.MaxValue, null)
                : new TokenCheck(null, default, "No user given.");
        }
        if (string.IsNullOrWhiteSpace(token) || token.Length > 8192)
        {
            return new TokenCheck(null, default, "An access token is required.");
        }
        var options = bearer.Get(JwtBearerDefaults.AuthenticationScheme);
        for (var attempt = 0; ; attempt++)
        {
            var parameters = options.TokenValidationParameters.Clone();
            if (options.ConfigurationManager is { } manager)
            {
                var keys = (OpenIdConnectConfiguration)await manager.GetConfigurationAsync(cancellationToken).ConfigureAwait(false);
                parameters.IssuerSigningKeys = keys.SigningKeys;
            }
            TokenValidationResult result;
            try
            {
                result = await _handler.ValidateTokenAsync(token, parameters).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A token of another kind (e.g. an RSA signature against our EC keys) can throw rather than fail; either way it is refused.
                _ = ex;
                return new TokenCheck(null, default, "The access token is not valid.");
            }
            if (result.IsValid)
            {
                var sub = result.ClaimsIdentity.FindFirst("sub")?.Value;
                return sub is { Length: > 0 }
                    ? new TokenCheck(sub, new DateTimeOffset(result.SecurityToken.ValidTo, TimeSpan.Zero), null)
                    : new TokenCheck(null, default, "The token names no user.");
            }
            // A key id not seen yet: Catalog may have rotated its key; fetch the set again once.
            if (attempt == 0 && result.Exception is SecurityTokenSignatureKeyNotFoundException && options.ConfigurationManager is { } rotated)
            {
                rotated.RequestRefresh();
                continue;
            }
            return new TokenCheck(null, default, result.Exception switch
            {
                SecurityTokenExpiredException => "The access token has expired.",
                _ => "The access token is not valid.",
            });
        }
    }

    public DateTimeOffset Now => time.GetUtcNow();
}
