using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace TorrentEdge.Analytics.Tests.Apis;

/// <summary>
/// Stands in for Catalog: an ES256 key whose JWKS the service fetches, and tokens signed with it. The JWKS also publishes
/// an RSA key, so that an RS256 token fails on its algorithm alone, not on an unknown key.
/// </summary>
public sealed class TestTokens : IDisposable
{
    public const string JwksUrl = "http://catalog.test/.well-known/jwks.json";

    private const string KeyId = "analytics-test";
    private const string RsaKeyId = "analytics-test-rsa";
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly RSA _rsa = RSA.Create(2048);

    /// <summary>The JWKS document holding the public keys.</summary>
    public string Jwks
    {
        get
        {
            var p = _key.ExportParameters(includePrivateParameters: false);
            var r = _rsa.ExportParameters(includePrivateParameters: false);
            return $$"""
                {"keys":[
                {"kty":"EC","crv":"P-256","use":"sig","alg":"ES256","kid":"{{KeyId}}","x":"{{Base64UrlEncoder.Encode(p.Q.X!)}}","y":"{{Base64UrlEncoder.Encode(p.Q.Y!)}}"},
                {"kty":"RSA","use":"sig","kid":"{{RsaKeyId}}","n":"{{Base64UrlEncoder.Encode(r.Modulus!)}}","e":"{{Base64UrlEncoder.Encode(r.Exponent!)}}"}]}
                """;
        }
    }

    public string Create(string sub, string role) => Create(sub, role, DateTime.UtcNow.AddMinutes(5));

    /// <summary>A token that expires at <paramref name="expires"/>, signed with ES256 or (<paramref name="rs256"/>) RS256.</summary>
    public string Create(string sub, string role, DateTime expires, bool rs256 = false) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = "torrentedge",
        Audience = "torrentedge",
        IssuedAt = expires.AddMinutes(-10),
        NotBefore = expires.AddMinutes(-10),
        Expires = expires,
        SigningCredentials = rs256
            ? new SigningCredentials(new RsaSecurityKey(_rsa) { KeyId = RsaKeyId }, SecurityAlgorithms.RsaSha256)
            : new SigningCredentials(new ECDsaSecurityKey(_key) { KeyId = KeyId }, SecurityAlgorithms.EcdsaSha256),
        Subject = new ClaimsIdentity([new Claim("sub", sub), new Claim("name", sub), new Claim("role", role)]),
    });

    public static void Authorize(HttpClient client, string token)
        => client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

    /// <summary>Answers the JWKS request in place of Catalog.</summary>
    public HttpMessageHandler CreateJwksHandler() => new JwksHandler(Jwks);

    public void Dispose()
    {
        _key.Dispose();
        _rsa.Dispose();
    }

    private sealed class JwksHandler(string jwks) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            => Task.FromResult(request.RequestUri?.ToString() == JwksUrl
                ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(jwks, Encoding.UTF8, "application/json") }
                : new HttpResponseMessage(HttpStatusCode.NotFound));
    }
}
