using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using TorrentEdge.PeerWorker.Extensions;

namespace TorrentEdge.PeerWorker.Tests.Extensions;

public sealed class PeerWorkerOptionsTests
{
    [Fact]
    public void DefaultReplicaId_AspireReplica_IsServiceNameAndInstanceId() =>
        Assert.Equal("peerworker-ytrnhqcw", PeerWorkerOptions.DefaultReplicaId("peerworker", "service.instance.id=ytrnhqcw"));

    [Fact]
    public void DefaultReplicaId_InstanceIdAlreadyNamed_IsKeptAsIs() =>
        Assert.Equal("peerworker-1", PeerWorkerOptions.DefaultReplicaId("peerworker", "deployment.environment=dev, service.instance.id=peerworker-1"));

    [Fact]
    public void DefaultReplicaId_NoInstanceId_IsTheHostName() =>
        Assert.Equal(Environment.MachineName, PeerWorkerOptions.DefaultReplicaId("peerworker", "deployment.environment=dev"));

    [Fact]
    public void Destinations_Default_PublicOnly()
    {
        var policy = new DestinationOptions().ToPolicy();

        Assert.False(policy.Check(IPAddress.Loopback).Allowed);
        Assert.False(policy.Check(IPAddress.Parse("169.254.169.254")).Allowed);
        Assert.False(policy.Check(IPAddress.Parse("10.0.0.1")).Allowed);
        Assert.True(policy.Check(IPAddress.Parse("8.8.8.8")).Allowed);
    }

    [Fact]
    public void Destinations_AllowList_AdmitsItsNetworks()
    {
        var policy = new DestinationOptions { Allow = ["10.20.0.5/32", " fd00::/8 "] }.ToPolicy();

        Assert.True(policy.Check(IPAddress.Parse("10.20.0.5")).Allowed);
        Assert.True(policy.Check(IPAddress.Parse("fd00::1")).Allowed);
        Assert.False(policy.Check(IPAddress.Parse("10.20.0.6")).Allowed);
    }

    [Fact]
    public void Destinations_MalformedNetwork_FormatExceptionNamingIt()
        => Assert.Contains("10.0.0.0/33", Assert.Throws<FormatException>(() => new DestinationOptions { Allow = ["10.0.0.0/33"] }.ToPolicy()).Message);

    [Theory]
    [InlineData("Development", null, true)]
    [InlineData("Production", null, false)]
    [InlineData("Production", "true", true)]
    [InlineData("Development", "false", false)]
    public void Destinations_AsRegistered_LoopbackOnlyInDevelopmentUnlessConfigured(string environment, string? configured, bool allowed)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:kafka"] = "127.0.0.1:9",
            ["PeerWorker:Destinations:AllowLoopback"] = configured,
        });
        builder.AddApplicationServices();
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<PeerWorkerOptions>>().Value;

        Assert.Equal(allowed, options.Destinations.ToPolicy().Check(IPAddress.Loopback).Allowed);
    }

    [Theory]
    [InlineData("MaxLoopQueueLength", "0")]
    [InlineData("MaxConnectionsPerAddress", "-1")]
    [InlineData("MaxActivePieceBytes", "0")]
    public void EngineLimits_BelowOne_ResolvingOptionsFailsNamingThem(string key, string value)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:kafka"] = "127.0.0.1:9",
            [$"PeerWorker:{key}"] = value,
        });
        builder.AddApplicationServices();
        using var host = builder.Build();

        var e = Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<PeerWorkerOptions>>().Value);

        Assert.Contains(key, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EngineLimits_Configured_BoundFromConfiguration()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:kafka"] = "127.0.0.1:9",
            ["PeerWorker:BanByAddress"] = "false",
            ["PeerWorker:MaxLoopQueueLength"] = "123",
        });
        builder.AddApplicationServices();
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<PeerWorkerOptions>>().Value;

        Assert.False(options.BanByAddress);
        Assert.Equal(123, options.MaxLoopQueueLength);
    }

    [Theory]
    [InlineData("Development", null, false)]
    [InlineData("Development", "true", false)]
    [InlineData("Staging", "true", false)]
    [InlineData("Production", null, true)]
    [InlineData("Production", "false", false)]
    public void Dht_AsRegistered_PublicRoutersOnlyInProduction(string environment, string? configured, bool routers)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:kafka"] = "127.0.0.1:9",
            ["PeerWorker:Dht:UseWellKnownRouters"] = configured,
        });
        builder.AddApplicationServices();
        using var host = builder.Build();

        var dht = host.Services.GetRequiredService<IOptions<PeerWorkerOptions>>().Value.Dht.ToEngineOptions("state");

        Assert.NotNull(dht);
        if (routers) Assert.Equal(TorrentEdge.Engine.Dht.DhtOptions.WellKnownRouters, dht.BootstrapNodes);
        // Development, staging and tests: no bootstrap node at all, so nothing leaves 127.0.0.0/8.
        else Assert.Empty(dht.BootstrapNodes);
    }

    [Theory]
    [InlineData("Development", null, null)]
    [InlineData("Production", null, null)]
    [InlineData("Production", "true", "10.1.2.3")]
    [InlineData("Development", "true", null)]
    public void LocalDiscovery_AsRegistered_OffUnlessEnabledInEveryEnvironment(string environment, string? enabled, string? iface)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:kafka"] = "127.0.0.1:9",
            ["PeerWorker:LocalDiscovery:Enabled"] = enabled,
            ["PeerWorker:LocalDiscovery:InterfaceAddress"] = iface,
        });
        builder.AddApplicationServices();
        using var host = builder.Build();

        var lsd = host.Services.GetRequiredService<IOptions<PeerWorkerOptions>>().Value.LocalDiscovery.ToEngineOptions();

        if (enabled is null)
        {
            Assert.Null(lsd);
            return;
        }
        Assert.NotNull(lsd);
        Assert.Equal(iface is null ? null : IPAddress.Parse(iface), lsd.InterfaceAddress);
    }

    [Fact]
    public void LocalDiscovery_BadInterfaceAddress_FailsValidation()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Development" });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:kafka"] = "127.0.0.1:9",
            ["PeerWorker:LocalDiscovery:Enabled"] = "true",
            ["PeerWorker:LocalDiscovery:InterfaceAddress"] = "eth0",
        });
        builder.AddApplicationServices();
        using var host = builder.Build();

        Assert.Throws<OptionsValidationException>(() => host.Services.GetRequiredService<IOptions<PeerWorkerOptions>>().Value);
    }
}
