using Microsoft.Extensions.Configuration;
using TorrentEdge.Gateway.Proxy;

namespace TorrentEdge.Gateway.Tests.Proxy;

public sealed class ServiceDiscoveryProxyConfigProviderTests
{
    [Fact]
    public void ResolveDestinations_AspireEntries_OneDestinationPerReplica()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["services:catalog:http:0"] = "http://127.0.0.1:5001",
            ["services:catalog:http:1"] = "http://127.0.0.1:5002",
            ["services:catalog:http:2"] = "not a uri",
            ["services:analytics:http:0"] = "http://127.0.0.1:5003",
        }).Build();

        var destinations = ServiceDiscoveryProxyConfigProvider.ResolveDestinations(configuration, "catalog");

        Assert.Equal(["http://127.0.0.1:5001/", "http://127.0.0.1:5002/"], destinations.Values.Select(d => d.Address).Order());
    }

    [Fact]
    public void ResolveDestinations_HttpsPresent_PrefersHttps()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["services:catalog:http:0"] = "http://127.0.0.1:5001",
            ["services:catalog:https:0"] = "https://127.0.0.1:5443",
        }).Build();

        var destinations = ServiceDiscoveryProxyConfigProvider.ResolveDestinations(configuration, "catalog");

        Assert.Equal("https://127.0.0.1:5443/", Assert.Single(destinations).Value.Address);
    }

    [Fact]
    public void ResolveDestinations_NoEntries_Empty()
    {
        var configuration = new ConfigurationBuilder().Build();

        Assert.Empty(ServiceDiscoveryProxyConfigProvider.ResolveDestinations(configuration, "notifier"));
    }
}
