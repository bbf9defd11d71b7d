using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using TorrentEdge.Catalog.Apis;
using TorrentEdge.Catalog.Tests.Apis;
using static TorrentEdge.Catalog.Tests.Apis.ProblemAssert;

namespace TorrentEdge.Catalog.Tests.ThroughGateway;

/// <summary>What only the Gateway path has: its own limits against Catalog's, headers across the proxy.</summary>
public sealed class GatewayProxyTests(GatewayCatalogFixture fixture) : IClassFixture<GatewayCatalogFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Upload_OverGatewayLimit_GatewayAnswers413WithoutCatalog()
    {
        var user = await fixture.UserAsync();
        var content = new MultipartFormDataContent { { new ByteArrayContent(new byte[GatewayCatalogFixture.GatewayMaxBodyBytes + 1024]), "file", "big.torrent" } };
        // As curl does for large bodies: wait for "100 Continue" so a refusal arrives before the body is sent.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/torrents") { Content = content };
        request.Headers.ExpectContinue = true;
        var response = await user.SendAsync(request, Ct);
        var problem = await IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "Request body too large");
        // The Gateway's wording and limit, not Catalog's.
        Assert.Contains($"the limit is {GatewayCatalogFixture.GatewayMaxBodyBytes} bytes", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Upload_BetweenCatalogAndGatewayLimits_CatalogAnswers413ThroughProxy()
    {
        var user = await fixture.UserAsync();
        var response = await TorrentsApiCases.UploadAsync(user, new byte[2 * 1024 * 1024]);
        var problem = await IsProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "Request body too large");
        // Catalog's limit in tests: 1 MiB file plus 64 KiB of multipart framing.
        Assert.Contains($"limit of {1024 * 1024 + 64 * 1024} bytes", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Add_CreatedThroughProxy_LocationIsThePublicApiPathAndResolvesThroughGateway()
    {
        var user = await fixture.UserAsync();
        var torrent = TestTorrents.Single("located-" + Guid.NewGuid().ToString("N")[..8]);
        var response = await TorrentsApiCases.UploadAsync(user, torrent.Bytes);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.False(location.IsAbsoluteUri, $"Location {location} must not name Catalog's own address");
        Assert.Equal($"/api/torrents/{torrent.InfoHash}", location.OriginalString);
        var resolved = new Uri(fixture.GatewayAddress, location);
        var view = await IsAsync<TorrentView>(await user.GetAsync(resolved, Ct), HttpStatusCode.OK);
        Assert.Equal(torrent.InfoHash, view.InfoHash);
    }

    [Fact]
    public async Task Problem_ThroughProxy_KeepsContentTypeBodyAndCorrelationId()
    {
        var client = fixture.CreateApiClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/torrents/{new string('a', 40)}");
        request.Headers.Add("X-Correlation-Id", "catalog-gw-test-1");
        var response = await client.SendAsync(request, Ct);
        await IsProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.Equal("catalog-gw-test-1", Assert.Single(response.Headers.GetValues("X-Correlation-Id")));

        var user = await fixture.UserAsync();
        var bad = await user.PostAsync("/api/torrents", new StringContent("x", null, "text/plain"), Ct);
        var problem = await IsProblemAsync(bad, HttpStatusCode.UnsupportedMediaType, "Unsupported content type");
        Assert.Contains("multipart/form-data", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task JwksUnderApi_ServedThroughGateway_WellKnownStaysInternal()
    {
        var response = await fixture.CreateApiClient().GetAsync("/api/auth/jwks", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"kty\":\"EC\"", await response.Content.ReadAsStringAsync(Ct));
        Assert.NotEqual(HttpStatusCode.OK, (await fixture.CreateApiClient().GetAsync("/.well-known/jwks.json", Ct)).StatusCode);
    }
}

/// <summary>Catalog in Development (Scalar on) behind the Gateway in Development (API docs routed).</summary>
public sealed class DevelopmentGatewayCatalogFixture() : GatewayCatalogFixture(new DevelopmentCatalogFactory())
{
    private sealed class DevelopmentCatalogFactory() : CatalogFactory(kestrel: true)
    {
        protected override void Configure(IWebHostBuilder builder) => builder.UseEnvironment("Development");
    }
}

public sealed class GatewayApiDocsTests(DevelopmentGatewayCatalogFixture fixture) : IClassFixture<DevelopmentGatewayCatalogFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OpenApiDocument_Development_ServedThroughGatewayWithEveryEndpoint()
    {
        var response = await fixture.CreateApiClient().GetAsync("/openapi/v1.json", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var paths = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("paths");
        foreach (var path in new[]
        {
            "/api/auth/register", "/api/auth/login", "/api/auth/refresh", "/api/auth/logout", "/api/auth/me", "/api/auth/tokens",
            "/api/auth/service-token", "/api/admin/users", "/api/torrents", "/api/torrents/{infoHash}", "/api/torrents/{infoHash}/pause",
            "/api/torrents/{infoHash}/resume", "/api/torrents/{infoHash}/recheck", "/api/torrents/{infoHash}/priority",
            "/api/torrents/{infoHash}/files", "/api/torrents/{infoHash}/metainfo",
        })
        {
            Assert.True(paths.TryGetProperty(path, out _), $"{path} missing from the OpenAPI document");
        }
    }

    [Fact]
    public async Task ScalarUi_Development_ServedThroughGateway()
    {
        var response = await fixture.CreateApiClient().GetAsync("/scalar/v1", Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {html}");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("scalar", html, StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>Catalog with a strict log-in limit behind the Gateway: the limit must be per client, not per Gateway.</summary>
public sealed class StrictLoginGatewayCatalogFixture() : GatewayCatalogFixture(
    CatalogFactory.WithSetting("Auth:LoginPermitsPerMinute", Permits.ToString(System.Globalization.CultureInfo.InvariantCulture), kestrel: true))
{
    public const int Permits = 3;
}

public sealed class GatewayLoginRateLimitTests(StrictLoginGatewayCatalogFixture fixture) : IClassFixture<StrictLoginGatewayCatalogFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Task<HttpResponseMessage> LoginAsync(string clientAddress)
    {
        var client = fixture.CreateApiClient();
        // What a TLS terminator on the Gateway's host would say; the Gateway passes the client on in X-Forwarded-For.
        client.DefaultRequestHeaders.Add("X-Forwarded-For", clientAddress);
        return client.PostAsJsonAsync("/api/auth/login", new { username = "nobody", password = "Wrong-password-1" }, Ct);
    }

    [Fact]
    public async Task Login_OneClientOverLimit_OtherClientsBehindSameGatewayStillServed()
    {
        for (var i = 0; i < StrictLoginGatewayCatalogFixture.Permits; i++)
        {
            await IsProblemAsync(await LoginAsync("203.0.113.7"), HttpStatusCode.Unauthorized, "Invalid credentials");
        }
        await IsProblemAsync(await LoginAsync("203.0.113.7"), HttpStatusCode.TooManyRequests, "Too many attempts");
        // Without X-Forwarded-For handling in Catalog every client would share the Gateway's address and its limit.
        await IsProblemAsync(await LoginAsync("203.0.113.8"), HttpStatusCode.Unauthorized, "Invalid credentials");
    }
}
