using System.Net;
using TorrentEdge.Engine.Connections;

namespace TorrentEdge.Engine.Tests.Connections;

/// <summary>The destination policy's decisions, on addresses alone: nothing here dials or resolves anything.</summary>
public sealed class DestinationPolicyTests
{
    [Theory]
    [InlineData("10.1.2.3", DestinationKind.Private)]
    [InlineData("172.16.0.1", DestinationKind.Private)]
    [InlineData("172.31.255.254", DestinationKind.Private)]
    [InlineData("192.168.1.1", DestinationKind.Private)]
    [InlineData("100.64.0.1", DestinationKind.Private)]
    [InlineData("fd00::1", DestinationKind.Private)]
    [InlineData("fc00::5", DestinationKind.Private)]
    [InlineData("169.254.169.254", DestinationKind.LinkLocal)]
    [InlineData("169.254.0.1", DestinationKind.LinkLocal)]
    [InlineData("fe80::1", DestinationKind.LinkLocal)]
    [InlineData("::ffff:169.254.169.254", DestinationKind.LinkLocal)]
    [InlineData("64:ff9b::a9fe:a9fe", DestinationKind.LinkLocal)]
    [InlineData("2002:a9fe:a9fe::1", DestinationKind.LinkLocal)]
    [InlineData("127.0.0.1", DestinationKind.Loopback)]
    [InlineData("127.45.6.7", DestinationKind.Loopback)]
    [InlineData("::1", DestinationKind.Loopback)]
    [InlineData("::ffff:127.0.0.1", DestinationKind.Loopback)]
    [InlineData("0.0.0.0", DestinationKind.Reserved)]
    [InlineData("::", DestinationKind.Reserved)]
    [InlineData("224.0.0.1", DestinationKind.Reserved)]
    [InlineData("255.255.255.255", DestinationKind.Reserved)]
    [InlineData("ff02::1", DestinationKind.Reserved)]
    public void Check_PublicOnly_RefusesInternalAddresses(string address, DestinationKind kind)
    {
        var decision = DestinationPolicy.PublicOnly.Check(IPAddress.Parse(address));

        Assert.False(decision.Allowed, decision.Reason);
        Assert.Equal(kind, decision.Kind);
        Assert.Contains("refuses", decision.Reason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("100.128.0.1")]
    [InlineData("169.255.0.1")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("::ffff:1.1.1.1")]
    public void Check_PublicOnly_AllowsPublicAddresses(string address)
    {
        var decision = DestinationPolicy.PublicOnly.Check(IPAddress.Parse(address));

        Assert.True(decision.Allowed, decision.Reason);
        Assert.Equal(DestinationKind.Public, decision.Kind);
    }

    [Fact]
    public void Check_PublicAndLoopback_AllowsLoopbackOnly()
    {
        var policy = DestinationPolicy.PublicAndLoopback;

        Assert.True(policy.Check(IPAddress.Parse("127.0.0.1")).Allowed);
        Assert.True(policy.Check(IPAddress.IPv6Loopback).Allowed);
        Assert.False(policy.Check(IPAddress.Parse("169.254.169.254")).Allowed);
        Assert.False(policy.Check(IPAddress.Parse("10.0.0.1")).Allowed);
    }

    [Fact]
    public void Check_AllowList_AllowsItsNetworksOnly()
    {
        var policy = DestinationPolicy.PublicOnly with { AllowedNetworks = [IPNetwork.Parse("10.20.0.5/32"), IPNetwork.Parse("fd12::/16")] };

        Assert.True(policy.Check(IPAddress.Parse("10.20.0.5")).Allowed);
        Assert.True(policy.Check(IPAddress.Parse("fd12::7")).Allowed);
        Assert.False(policy.Check(IPAddress.Parse("10.20.0.6")).Allowed);
        Assert.False(policy.Check(IPAddress.Parse("169.254.169.254")).Allowed);
    }

    [Fact]
    public void Check_Unrestricted_AllowsEverything()
    {
        Assert.True(DestinationPolicy.Unrestricted.IsUnrestricted);
        Assert.True(DestinationPolicy.Unrestricted.Check(IPAddress.Parse("169.254.169.254")).Allowed);
        Assert.True(DestinationPolicy.Unrestricted.Check(IPAddress.Parse("0.0.0.0")).Allowed);
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://[fe80::1]:8080/announce")]
    [InlineData("udp://10.0.0.1:6969")]
    [InlineData("http://127.0.0.1:6969/announce")]
    public void CheckUri_IpLiteralHosts_Refused(string url)
        => Assert.False(DestinationPolicy.PublicOnly.Check(new Uri(url)).Allowed);

    [Fact]
    public async Task FilterAsync_LiteralRefused_ThrowsWithoutResolvingOrDialling()
    {
        var refused = await Assert.ThrowsAsync<DestinationRefusedException>(() =>
            DestinationPolicy.PublicOnly.FilterAsync("169.254.169.254", TestContext.Current.CancellationToken).AsTask());
        Assert.Contains("link-local", refused.Message, StringComparison.Ordinal);
        Assert.Equal([IPAddress.Parse("8.8.4.4")], await DestinationPolicy.PublicOnly.FilterAsync("8.8.4.4", TestContext.Current.CancellationToken));
    }
}
