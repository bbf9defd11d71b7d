using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using TorrentEdge.AppHost.Resources;

namespace TorrentEdge.AppHost.Tests.Resources;

public sealed class ExternalConnectionStringsTests
{
    [Theory]
    [InlineData("broker-a:9092,broker-b:9093", "broker-a:9092 broker-b:9093")]
    [InlineData("redis.internal:6380,password=secret,ssl=true", "redis.internal:6380")]
    [InlineData("redis.internal", "redis.internal:6379")]
    [InlineData("mongodb://user:p%40ss@mongo-0:27017,mongo-1/torrentedge?replicaSet=rs0", "mongo-0:27017 mongo-1:27017")]
    [InlineData("mongodb://mongo", "mongo:27017")]
    public void Endpoints_ConnectionString_HostsAndPorts(string connectionString, string expected) =>
        Assert.Equal(expected, string.Join(' ', ExternalConnectionStrings.Endpoints(connectionString).Select(e => $"{e.Host}:{e.Port}")));

    [Fact]
    public async Task Reachable_Listener_Healthy_ClosedPort_Unhealthy()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var open = ((IPEndPoint)listener.LocalEndpoint).Port;

        var healthy = await ExternalConnectionStrings.Reachable($"127.0.0.1:9,127.0.0.1:{open}", TestContext.Current.CancellationToken);
        var unhealthy = await ExternalConnectionStrings.Reachable("127.0.0.1:9", TestContext.Current.CancellationToken);

        Assert.Equal(HealthStatus.Healthy, healthy.Status);
        Assert.Equal(HealthStatus.Unhealthy, unhealthy.Status);
        Assert.Contains("127.0.0.1:9", unhealthy.Description, StringComparison.Ordinal);
    }
}
