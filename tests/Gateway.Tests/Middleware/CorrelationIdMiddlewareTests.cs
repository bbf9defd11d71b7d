using TorrentEdge.Gateway.Middleware;
using TorrentEdge.Gateway.Tests.Infrastructure;
using TorrentEdge.Gateway.Tests.Proxy;

namespace TorrentEdge.Gateway.Tests.Middleware;

public sealed class CorrelationIdMiddlewareTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("abc-123", true)]
    [InlineData("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("line\r\nbreak", false)]
    [InlineData("ünïcode", false)]
    public void IsSane_Value_AcceptsOnlyShortPrintableTokens(string value, bool expected)
    {
        Assert.Equal(expected, CorrelationIdMiddleware.IsSane(value));
    }

    [Fact]
    public void IsSane_TooLong_False()
    {
        Assert.False(CorrelationIdMiddleware.IsSane(new string('a', CorrelationIdMiddleware.MaxLength + 1)));
    }

    [Fact]
    public async Task Request_WithSaneId_PassesItDownstreamAndEchoesIt()
    {
        await using var catalog = await Backend.StartAsync("catalog", Ct);
        await using var gateway = new GatewayFactory(GatewayFactory.Discovery(("catalog", [catalog])));
        using var client = gateway.CreateRealClient();
        client.DefaultRequestHeaders.Add("X-Correlation-Id", "req-42");

        using var response = await client.GetAsync("/api/torrents", Ct);
        var echo = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<Echo>(response.Content, Ct);

        Assert.Equal("req-42", echo?.CorrelationId);
        Assert.Equal("req-42", Assert.Single(response.Headers.GetValues("X-Correlation-Id")));
    }

    [Fact]
    public async Task Request_WithoutId_GetsANewOneDownstreamAndBack()
    {
        await using var catalog = await Backend.StartAsync("catalog", Ct);
        await using var gateway = new GatewayFactory(GatewayFactory.Discovery(("catalog", [catalog])));
        using var client = gateway.CreateRealClient();

        using var response = await client.GetAsync("/api/torrents", Ct);
        var echo = await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<Echo>(response.Content, Ct);
        var returned = Assert.Single(response.Headers.GetValues("X-Correlation-Id"));

        Assert.False(string.IsNullOrEmpty(echo?.CorrelationId));
        Assert.Equal(echo.CorrelationId, returned);
        Assert.True(CorrelationIdMiddleware.IsSane(returned));
    }

    [Fact]
    public async Task Request_WithInsaneId_IsReplaced()
    {
        await using var catalog = await Backend.StartAsync("catalog", Ct);
        await using var gateway = new GatewayFactory(GatewayFactory.Discovery(("catalog", [catalog])));
        using var client = gateway.CreateRealClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("X-Correlation-Id", new string('x', 500));

        var echo = await ReverseProxyTests.GetEchoAsync(client, "/api/torrents");

        Assert.NotNull(echo.CorrelationId);
        Assert.NotEqual(new string('x', 500), echo.CorrelationId);
        Assert.True(CorrelationIdMiddleware.IsSane(echo.CorrelationId));
    }
}
