using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace TorrentEdge.Catalog.Tests.ServiceDefaultsAuth;

/// <summary>Another service validating Catalog's tokens with <see cref="DefaultAuthentication.AddDefaultAuthentication"/>.</summary>
public sealed class JwtValidationTests(CatalogFactory catalog) : IClassFixture<CatalogFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<WebApplication> StartServiceAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.WebHost.UseTestServer();
        builder.AddDefaultAuthentication();
        // The JWKS request goes to the in-memory Catalog instead of http://catalog.
        builder.Services.AddHttpClient(DefaultAuthentication.JwksHttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => catalog.Server.CreateHandler());
        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/api/whoami", (ClaimsPrincipal user) => user.FindFirstValue("name")).RequireAuthorization();
        app.MapGet("/hubs/torrents", (ClaimsPrincipal user) => user.FindFirstValue("sub")).RequireAuthorization();
        await app.StartAsync(Ct);
        return app;
    }

    [Fact]
    public async Task CatalogToken_AcceptedByOtherService()
    {
        var user = await catalog.UserAsync("validated");
        var token = user.DefaultRequestHeaders.Authorization!.Parameter!;
        await using var app = await StartServiceAsync();
        var client = app.GetTestClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/whoami", Ct)).StatusCode);

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await client.GetAsync("/api/whoami", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("validated", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task HubPath_TokenFromQuery_Accepted_OtherPathsIgnoreQuery()
    {
        var user = await catalog.UserAsync();
        var token = user.DefaultRequestHeaders.Authorization!.Parameter!;
        await using var app = await StartServiceAsync();
        var client = app.GetTestClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/hubs/torrents?access_token={token}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync($"/api/whoami?access_token={token}", Ct)).StatusCode);
    }

    [Fact]
    public async Task ForgedOrForeignTokens_Rejected()
    {
        await using var app = await StartServiceAsync();
        var client = app.GetTestClient();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var forged = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "torrentedge",
            Audience = "torrentedge",
            Expires = DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key) { KeyId = "forged" }, SecurityAlgorithms.EcdsaSha256),
            Subject = new ClaimsIdentity([new Claim("sub", "x"), new Claim("name", "mallory")]),
        });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", forged);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/whoami", Ct)).StatusCode);

        // Signed with Catalog's key but for another audience.
        var keys = catalog.Services.GetRequiredService<TorrentEdge.Catalog.Infrastructure.SigningKeys>();
        var otherAudience = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "torrentedge",
            Audience = "someone-else",
            Expires = DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = keys.SigningCredentials,
            Subject = new ClaimsIdentity([new Claim("sub", "x")]),
        });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", otherAudience);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/whoami", Ct)).StatusCode);
    }
}
