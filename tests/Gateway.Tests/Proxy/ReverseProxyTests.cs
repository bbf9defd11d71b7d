using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using TorrentEdge.Gateway.Tests.Infrastructure;

namespace TorrentEdge.Gateway.Tests.Proxy;

public sealed class ReverseProxyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Proxy_ByPath_RoutesToCatalogAnalyticsAndNotifier()
    {
        await using var catalog = await Backend.StartAsync("catalog", Ct);
        await using var analytics = await Backend.StartAsync("analytics", Ct);
        await using var notifier = await Backend.StartAsync("notifier", Ct);
        await using var gateway = new GatewayFactory(GatewayFactory.Discovery(
            ("catalog", [catalog]), ("analytics", [analytics]), ("notifier", [notifier])));
        using var client = gateway.CreateRealClient();

        Assert.Equal("catalog", (await GetEchoAsync(client, "/api/torrents?page=2")).Instance);
        Assert.Equal("catalog", (await GetEchoAsync(client, "/api/stats-are-not-statistics")).Instance);
        Assert.Equal("analytics", (await GetEchoAsync(client, "/api/statistics")).Instance);
        var statistics = await GetEchoAsync(client, "/api/statistics/totals");
        Assert.Equal("analytics", statistics.Instance);
        Assert.Equal("/api/statistics/totals", statistics.Path);
        Assert.Equal("notifier", (await GetEchoAsync(client, "/hubs/torrents/negotiate")).Instance);
        var socketIo = await GetEchoAsync(client, "/socket.io/?EIO=4&transport=polling");
        Assert.Equal(("notifier", "/socket.io/?EIO=4&transport=polling"), (socketIo.Instance, socketIo.Path));
        Assert.Equal("/api/torrents?page=2", (await GetEchoAsync(client, "/api/torrents?page=2")).Path);
    }

    [Fact]
    public async Task Proxy_UnknownPath_IsNotProxied()
    {
        await using var catalog = await Backend.StartAsync("catalog", Ct);
        await using var gateway = new GatewayFactory(GatewayFactory.Discovery(("catalog", [catalog])));
        using var client = gateway.CreateRealClient();

        using var response = await client.GetAsync("/elsewhere", Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(0, catalog.Requests);
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("false", false)]
    public async Task Proxy_ApiDocsInDevelopment_RoutedToCatalogUnlessTurnedOff(string? apiDocs, bool routed)
    {
        await using var catalog = await Backend.StartAsync("catalog", Ct);
        var settings = GatewayFactory.Discovery(("catalog", [catalog]));
        settings["Gateway:ApiDocs"] = apiDocs;
        await using var gateway = new GatewayFactory(settings);
        using var client = gateway.CreateRealClient();

        foreach (var path in new[] { "/openapi/v1.json", "/scalar/v1" })
        {
            using var response = await client.GetAsync(path, Ct);
            Assert.Equal(routed ? HttpStatusCode.OK : HttpStatusCode.NotFound, response.StatusCode);
            if (routed)
            {
                Assert.Equal(path, (await response.Content.ReadFromJsonAsync<Echo>(Ct))!.Path);
            }
        }
        Assert.Equal(routed ? 2 : 0, catalog.Requests);
    }

    [Fact]
    public async Task Proxy_Request_CarriesForwardedHeadersToTheBackend()
    {
        await using var catalog = await Backend.StartAsync("catalog", Ct);
        await using var gateway = new GatewayFactory(GatewayFactory.Discovery(("catalog", [catalog])));
        using var client = gateway.CreateRealClient();

        var echo = await GetEchoAsync(client, "/api/torrents");

        Assert.Equal("127.0.0.1", echo.ForwardedFor);
        Assert.Equal("http", echo.ForwardedProto);
        Assert.Equal(gateway.Address.Authority, echo.ForwardedHost);
    }

    [Fact]
    public async Task Proxy_WebSocketUpgradeOnHubs_IsProxiedBothWays()
    {
        await using var notifier = await Backend.StartAsync("notifier", Ct);
        await using var gateway = new GatewayFactory(GatewayFactory.Discovery(("notifier", [notifier])));
        var uri = new UriBuilder(gateway.Address) { Scheme = "ws", Path = "/hubs/echo" }.Uri;

        using var socket = new ClientWebSocket();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        await socket.ConnectAsync(uri, timeout.Token);
        await socket.SendAsync(Encoding.UTF8.GetBytes("hello"), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        var buffer = new byte[1024];
        var result = await socket.ReceiveAsync(buffer, timeout.Token);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);

        Assert.Equal(WebSocketMessageType.Text, result.MessageType);
        Assert.Equal("notifier:hello", Encoding.UTF8.GetString(buffer, 0, result.Count));
        Assert.Equal(1, notifier.Requests);
    }

    [Fact]
    public async Task Proxy_TwoReplicas_SpreadsRequestsAcrossBoth()
    {
        await using var first = await Backend.StartAsync("catalog-0", Ct);
        await using var second = await Backend.StartAsync("catalog-1", Ct);
        await using var gateway = new GatewayFactory(GatewayFactory.Discovery(("catalog", [first, second])));
        using var client = gateway.CreateRealClient();

        var seen = new Dictionary<string, int>();
        for (var i = 0; i < 40; i++)
        {
            var echo = await GetEchoAsync(client, "/api/torrents");
            seen[echo.Instance] = seen.GetValueOrDefault(echo.Instance) + 1;
        }

        // Power-of-two-choices picks at random between idle replicas: both missing out of 40 has odds of 2^-39.
        Assert.True(seen.GetValueOrDefault("catalog-0") > 0, $"catalog-0 got none: {string.Join(", ", seen)}");
        Assert.True(seen.GetValueOrDefault("catalog-1") > 0, $"catalog-1 got none: {string.Join(", ", seen)}");
    }

    [Fact]
    public async Task Proxy_UnhealthyReplica_IsTakenOutByActiveHealthChecks()
    {
        await using var healthy = await Backend.StartAsync("catalog-0", Ct);
        await using var sick = await Backend.StartAsync("catalog-1", Ct);
        sick.Healthy = false;
        var settings = GatewayFactory.Discovery(("catalog", [healthy, sick]));
        settings["Gateway:HealthCheck:Interval"] = "00:00:00.250";
        settings["Gateway:HealthCheck:Timeout"] = "00:00:02";
        settings["Gateway:LoadBalancingPolicy"] = "RoundRobin";
        await using var gateway = new GatewayFactory(settings);
        using var client = gateway.CreateRealClient();

        // Wait (bounded) until the probes have marked the sick replica down: then round robin has only one choice.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var allHealthy = false;
        while (!allHealthy && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250, Ct);
            var before = sick.Requests;
            for (var i = 0; i < 10; i++)
            {
                await GetEchoAsync(client, "/api/torrents");
            }
            allHealthy = sick.Requests == before;
        }

        Assert.True(allHealthy, "the unhealthy replica kept receiving traffic");
        var after = sick.Requests;
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal("catalog-0", (await GetEchoAsync(client, "/api/torrents")).Instance);
        }
        Assert.Equal(after, sick.Requests);
    }

    [Fact]
    public async Task Proxy_NoReplicaDiscovered_Returns503()
    {
        await using var gateway = new GatewayFactory(new Dictionary<string, string?>());
        using var client = gateway.CreateRealClient();

        using var response = await client.GetAsync("/api/torrents", Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    [Fact]
    public async Task Root_ServesTheWebUi()
    {
        await using var gateway = new GatewayFactory(new Dictionary<string, string?>());
        using var client = gateway.CreateRealClient();

        using var response = await client.GetAsync("/", Ct);
        var html = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        // The single-page app built from src/WebUi: its mount point and its hashed script.
        Assert.Contains("<div id=\"app\">", html, StringComparison.Ordinal);
        Assert.Contains("<script type=\"module\" src=\"/assets/main-", html, StringComparison.Ordinal);
    }

    internal static async Task<Echo> GetEchoAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Echo>(Ct))!;
    }
}
