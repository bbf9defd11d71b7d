using System.Net;
using Microsoft.AspNetCore.Hosting;
using TorrentEdge.Gateway.Tests.Infrastructure;

namespace TorrentEdge.Gateway.Tests.Extensions;

/// <summary>The Gateway's explicit CORS policy: no other origin by default, exactly the configured ones otherwise (issue 16).</summary>
public sealed class CorsTests
{
    private const string Allowed = "https://ui.example.com";
    private const string Other = "https://evil.example";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static HttpRequestMessage Preflight(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, "/api/torrents");
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
        return request;
    }

    private static HttpRequestMessage Get(string origin)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/torrents");
        request.Headers.Add("Origin", origin);
        return request;
    }

    [Theory]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task CrossOriginRequest_NoOriginsConfigured_NoCorsHeaders(string environment)
    {
        await using var catalog = await Backend.StartAsync("catalog", Ct);
        await using var gateway = new GatewayFactory(GatewayFactory.Discovery(("catalog", [catalog])), b => b.UseEnvironment(environment));
        using var client = gateway.CreateRealClient();

        using var preflight = await client.SendAsync(Preflight(Allowed), Ct);
        using var get = await client.SendAsync(Get(Allowed), Ct);

        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(get.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task CrossOriginRequest_ConfiguredOrigin_AllowedAndOthersNot()
    {
        await using var catalog = await Backend.StartAsync("catalog", Ct);
        var settings = GatewayFactory.Discovery(("catalog", [catalog]));
        settings["Gateway:Cors:AllowedOrigins:0"] = Allowed;
        await using var gateway = new GatewayFactory(settings);
        using var client = gateway.CreateRealClient();

        using var preflight = await client.SendAsync(Preflight(Allowed), Ct);
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal(Allowed, Assert.Single(preflight.Headers.GetValues("Access-Control-Allow-Origin")));
        Assert.Contains("authorization", string.Join(',', preflight.Headers.GetValues("Access-Control-Allow-Headers")), StringComparison.OrdinalIgnoreCase);
        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Credentials"));
        using var get = await client.SendAsync(Get(Allowed), Ct);
        Assert.Equal(Allowed, Assert.Single(get.Headers.GetValues("Access-Control-Allow-Origin")));

        using var otherPreflight = await client.SendAsync(Preflight(Other), Ct);
        using var otherGet = await client.SendAsync(Get(Other), Ct);
        Assert.False(otherPreflight.Headers.Contains("Access-Control-Allow-Origin"));
        Assert.False(otherGet.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("*")]
    [InlineData("https://*.example.com")]
    [InlineData("https://ui.example.com/app")]
    public void Start_WildcardOrPathOrigin_RefusedWithItsValue(string origin)
    {
        var settings = new Dictionary<string, string?> { ["Gateway:Cors:AllowedOrigins:0"] = origin };
        using var gateway = new GatewayFactory(settings);

        var refused = Assert.ThrowsAny<Exception>(() => gateway.CreateRealClient());

        Assert.Contains(origin, refused.ToString(), StringComparison.Ordinal);
    }
}
