using System.Net;
using System.Net.Sockets;
using TorrentEdge.Gateway.Tests.Infrastructure;

namespace TorrentEdge.Gateway.Tests.Health;

/// <summary>The Gateway's /health says ready only while Catalog answers; /alive stays up meanwhile.</summary>
public sealed class CatalogReachableHealthCheckTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Health_CatalogNotListening_IsUnhealthyUntilItListens()
    {
        // A port nothing listens on, later taken by the real stand-in: the Gateway starts before Catalog does.
        var port = FreePort();
        var settings = new Dictionary<string, string?> { ["services:catalog:http:0"] = $"http://127.0.0.1:{port}" };
        await using var gateway = new GatewayFactory(settings);
        using var client = gateway.CreateRealClient();

        using (var early = await client.GetAsync("/health", Ct))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, early.StatusCode);
        }
        using (var alive = await client.GetAsync("/alive", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        }

        await using var catalog = await Backend.StartAsync("catalog", port, Ct);
        using var ready = await client.GetAsync("/health", Ct);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        // Ready means the proxy's own requests reach Catalog too.
        using var proxied = await client.GetAsync("/api/torrents", Ct);
        Assert.Equal(HttpStatusCode.OK, proxied.StatusCode);
    }

    [Fact]
    public async Task Health_NoCatalogAddress_IsUnhealthy()
    {
        await using var gateway = new GatewayFactory(new Dictionary<string, string?>());
        using var client = gateway.CreateRealClient();

        using var response = await client.GetAsync("/health", Ct);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
