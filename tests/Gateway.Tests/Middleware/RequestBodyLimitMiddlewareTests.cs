using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using TorrentEdge.Gateway.Tests.Infrastructure;

namespace TorrentEdge.Gateway.Tests.Middleware;

public sealed class RequestBodyLimitMiddlewareTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Post_BodyOverTheLimit_Returns413ProblemDetailsWithoutReachingTheBackend()
    {
        await using var catalog = await Backend.StartAsync("catalog", Ct);
        var settings = GatewayFactory.Discovery(("catalog", [catalog]));
        settings["Gateway:MaxRequestBodyBytes"] = "1024";
        await using var gateway = new GatewayFactory(settings);
        using var client = gateway.CreateRealClient();

        using var small = await client.PostAsync("/api/torrents", new ByteArrayContent(new byte[1000]), Ct);
        var echo = await small.Content.ReadFromJsonAsync<Echo>(Ct);
        using var large = await client.PostAsync("/api/torrents", new ByteArrayContent(new byte[2048]), Ct);
        var problem = await large.Content.ReadFromJsonAsync<ProblemDetails>(Ct);

        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        Assert.Equal(1000, echo?.BodyLength);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        Assert.Equal("application/problem+json", large.Content.Headers.ContentType?.MediaType);
        Assert.Equal(413, problem?.Status);
        Assert.Equal(1, catalog.Requests);
    }

    [Fact]
    public async Task Post_ChunkedBodyOverTheLimit_IsRefused()
    {
        await using var catalog = await Backend.StartAsync("catalog", Ct);
        var settings = GatewayFactory.Discovery(("catalog", [catalog]));
        settings["Gateway:MaxRequestBodyBytes"] = "1024";
        await using var gateway = new GatewayFactory(settings);
        using var client = gateway.CreateRealClient();

        // A stream of unknown length goes out chunked, with no Content-Length to judge by up front.
        using var content = new StreamContent(new UnseekableStream(new byte[64 * 1024]));
        using var response = await client.PostAsync("/api/torrents", content, Ct);

        Assert.True(response.StatusCode is HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.BadRequest,
            $"expected a refusal, got {(int)response.StatusCode}");
    }

    private sealed class UnseekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
