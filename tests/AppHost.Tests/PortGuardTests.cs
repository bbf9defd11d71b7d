using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;

namespace TorrentEdge.AppHost.Tests;

public sealed class PortGuardTests
{
    private static SuiteOptions Suite(int gatewayPort) => new(gatewayPort, "/tmp/te", 2, true, "Development");

    [Fact]
    public void FirstTaken_DashboardPortHeld_NamesTheVariable()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["ASPNETCORE_URLS"] = $"http://localhost:{port}" }).Build();

        var message = PortGuard.FirstTaken(Suite(0), configuration);

        Assert.StartsWith($"Port {port} (the Aspire dashboard) is already in use. Choose another with ASPNETCORE_URLS", message, StringComparison.Ordinal);
    }

    [Fact]
    public void FirstTaken_RandomizedPorts_ChecksNothing()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["DcpPublisher:RandomizePorts"] = "true" }).Build();

        Assert.Null(PortGuard.FirstTaken(Suite(port), configuration));
    }

    [Fact]
    public void FirstTaken_AllFree_Null() =>
        Assert.Null(PortGuard.FirstTaken(Suite(0), new ConfigurationBuilder().Build()));
}
