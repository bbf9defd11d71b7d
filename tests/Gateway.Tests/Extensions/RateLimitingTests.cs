using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using TorrentEdge.Gateway.Tests.Infrastructure;

namespace TorrentEdge.Gateway.Tests.Extensions;

public sealed class RateLimitingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Request_PastThePermitLimit_Returns429WithRetryAfterAndProblemDetails()
    {
        await using var catalog = await Backend.StartAsync("catalog", Ct);
        var settings = GatewayFactory.Discovery(("catalog", [catalog]));
        settings["Gateway:RateLimit:PermitLimit"] = "3";
        settings["Gateway:RateLimit:Window"] = "00:01:00";
        await using var gateway = new GatewayFactory(settings);
        using var client = gateway.CreateRealClient();

        for (var i = 0; i < 3; i++)
        {
            using var ok = await client.GetAsync("/api/torrents", Ct);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }
        using var limited = await client.GetAsync("/api/torrents", Ct);
        var problem = await limited.Content.ReadFromJsonAsync<ProblemDetails>(Ct);

        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal("application/problem+json", limited.Content.Headers.ContentType?.MediaType);
        Assert.Equal(429, problem?.Status);
        var retryAfter = limited.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        Assert.Equal(3, catalog.Requests);
        Assert.True(limited.Headers.Contains("X-Correlation-Id"));
    }

    [Fact]
    public async Task HealthProbe_PastThePermitLimit_IsNotLimited()
    {
        var settings = new Dictionary<string, string?> { ["Gateway:RateLimit:PermitLimit"] = "1" };
        await using var gateway = new GatewayFactory(settings);
        using var client = gateway.CreateRealClient();

        for (var i = 0; i < 5; i++)
        {
            using var response = await client.GetAsync("/alive", Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }
}
