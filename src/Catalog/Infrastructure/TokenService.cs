using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TorrentEdge.Catalog.Model;

namespace TorrentEdge.Catalog.Infrastructure;

/// <summary>Issues access tokens (ES256 JWTs) and opaque refresh and API tokens, which are stored only as hashes.</summary>
public sealed class TokenService(SigningKeys keys, IOptions<AuthOptions> options, TimeProvider time)
{
    public const string ApiTokenPrefix = "te_pat_";

    private readonly JsonWebTokenHandler _handler = new();

    public (string Token, int ExpiresIn) CreateAccessToken(User user) =>
        CreateToken(options.Value.Audience, options.Value.AccessTokenLifetime, user.Id, user.UserName, user.Role);

    /// <summary>A short-lived token for a service client: its own audience, role <c>service</c>, subject <c>service:&lt;id&gt;</c>.</summary>
    public (string Token, int ExpiresIn) CreateServiceToken(string clientId) =>
        CreateToken(options.Value.ServiceAudience, options.Value.ServiceTokenLifetime, CatalogClaims.ServiceSubjectPrefix + clientId, clientId, Roles.Service);

    private (string Token, int ExpiresIn) CreateToken(string audience, TimeSpan lifetime, string subject, string name, string role)
    {
        var now = time.GetUtcNow();
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = options.Value.Issuer,
            Audience = audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + lifetime).UtcDateTime,
            SigningCredentials = keys.SigningCredentials,
            Subject = new ClaimsIdentity(
            [
                new Claim(JwtRegisteredClaimNames.Sub, subject),
                new Claim(JwtRegisteredClaimNames.Name, name),
                new Claim(CatalogClaims.Role, role),
                new Claim(JwtRegisteredClaimNames.Jti, Guid.NewGuid().ToString("N")),
            ]),
        };
        return (_handler.CreateToken(descriptor), (int)lifetime.TotalSeconds);
    }

    /// <summary>
    /// Whether <paramref name="clientId"/> is a configured service client and <paramref name="secret"/> its secret,
    /// compared in constant time (over hashes, so lengths do not leak either).
    /// </summary>
    public bool CheckServiceClient(string clientId, string secret) =>
        options.Value.ServiceClients.TryGetValue(clientId, out var expected)
        && !string.IsNullOrEmpty(expected)
        && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(expected)),
            SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret)));

    /// <summary>A new random token (256 bits, base64url) with an optional prefix that tells token kinds apart.</summary>
    public static string NewOpaqueToken(string prefix = "") =>
        prefix + Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    /// <summary>SHA-256 is enough here: the tokens are long random values, not passwords.</summary>
    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token)));
}

/// <summary>Claim types of TorrentEdge tokens (JWT names, not the long WS-* URIs).</summary>
public static class CatalogClaims
{
    public const string Subject = JwtRegisteredClaimNames.Sub;
    public const string Name = JwtRegisteredClaimNames.Name;
    public const string Role = "role";

    /// <summary>Subjects of service tokens start with this; user ids never do (they are 32 hex digits).</summary>
    public const string ServiceSubjectPrefix = "service:";
}
