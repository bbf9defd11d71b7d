using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace TorrentEdge.Analytics.Tests.Apis;

/// <summary>Stands in for Catalog: an ES256 key whose JWKS the service fetches, and tokens signed with it.</summary>
public sealed class TestTokens : IDisposable
{
    public const string JwksUrl = "http://catalog.test/.well-known/jwks.json";

    private const string KeyId = "analytics-test";
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    /// <summary>The JWKS document holding the public key.</summary>
    public string Jwks
    {
        get
        {
            var p = _key.ExportParameters(includePrivateParameters: false);
            return $$"""{"keys":[{"kty":"EC","crv":"P-256","use":"sig","alg":"ES256","kid":"{{KeyId}}","x":"{{Base64UrlEncoder.Encode(p.Q.X!)}}","y":"{{Base64UrlEncoder.Encode(p.Q.Y!)}}"}]}""";
        }
    }

    public string Create(string sub, string role) => new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
    {
        Issuer = "torrentedge",
        Audience = "torrentedge",
        Expires = DateTime.UtcNow.AddMinutes(5),
        SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(_key) { KeyId = KeyId }, SecurityAlgorithms.EcdsaSha256),
        Subject = new ClaimsIdentity([new Claim("sub", sub), new Claim("name", sub), new Claim("role", role)]),
    });

    public static void Authorize(HttpClient client, string token)
        => client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

    /// <summary>Answers the JWKS request in place of Catalog.</summary>
    public HttpMessageHandler CreateJwksHandler() => new JwksHandler(Jwks);

    public void Dispose() => _key.Dispose();

    private sealed class JwksHandler(string jwks) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            => Task.FromResult(request.RequestUri?.ToString() == JwksUrl
                ? new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(jwks, Encoding.UTF8, "application/json") }
                : new HttpResponseMessage(HttpStatusCode.NotFound));
    }
}
