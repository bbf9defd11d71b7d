using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;

namespace TorrentEdge.AppHost.Tests;

public sealed class SuiteOptionsTests
{
    private static bool Read(string[] args, out SuiteOptions options, out string? error) =>
        SuiteOptions.TryRead(new ConfigurationBuilder().AddCommandLine(args).Build(), new Environment("Development"), out options, out error);

    [Fact]
    public void TryRead_NoArguments_DefaultsOfTheReadme()
    {
        Assert.True(Read([], out var options, out _));
        Assert.Equal(3000, options.GatewayPort);
        Assert.Equal(2, options.Workers);
        Assert.True(options.Redis);
        Assert.Equal(Path.GetFullPath(".torrentedge"), options.DataDir);
        Assert.Equal(Path.Combine(options.DataDir, "downloads"), options.DownloadRoot);
    }

    [Fact]
    public void TryRead_EveryOption_Taken()
    {
        Assert.True(Read(["--gateway-port", "8080", "--workers", "3", "--data-dir", "/srv/te", "--redis", "off"], out var options, out _));
        Assert.Equal(new SuiteOptions(8080, "/srv/te", 3, false, "Development"), options);
    }

    [Theory]
    [InlineData("--workers", "0", "--workers must be a whole number from 1 to 16, not '0'.")]
    [InlineData("--gateway-port", "70000", "--gateway-port must be a whole number from 0 to 65535, not '70000'.")]
    [InlineData("--gateway-port", "http", "--gateway-port must be a whole number from 0 to 65535, not 'http'.")]
    [InlineData("--redis", "maybe", "--redis must be 'auto' (redis-server when installed) or 'off', not 'maybe'. An external Redis is given as ConnectionStrings__redis.")]
    public void TryRead_BadValue_SaysWhichAndHow(string option, string value, string message)
    {
        Assert.False(Read([option, value], out _, out var error));
        Assert.Equal(message, error);
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "AppHost";
        public string ContentRootPath { get; set; } = "/";
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
