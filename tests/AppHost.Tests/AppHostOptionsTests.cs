namespace TorrentEdge.AppHost.Tests;

public sealed class AppHostOptionsTests
{
    [Fact]
    public void Parse_NoArguments_Defaults()
    {
        var options = AppHostOptions.Parse([]);

        Assert.Equal(3000, options.GatewayPort);
        Assert.Equal("./.torrentedge", options.DataDir);
        Assert.Equal(2, options.Workers);
        Assert.Equal("Development", options.Environment);
        Assert.True(options.Redis);
        Assert.True(options.Restart);
        Assert.False(options.Help);
    }

    [Fact]
    public void Parse_AllOptions_Taken()
    {
        var options = AppHostOptions.Parse(
            ["--gateway-port", "8080", "--data-dir=/tmp/x", "--workers", "3", "--environment", "Production", "--no-redis", "--no-restart", "--health-timeout", "30"]);

        Assert.Equal(8080, options.GatewayPort);
        Assert.Equal("/tmp/x", options.DataDir);
        Assert.Equal(3, options.Workers);
        Assert.Equal("Production", options.Environment);
        Assert.False(options.Redis);
        Assert.False(options.Restart);
        Assert.Equal(TimeSpan.FromSeconds(30), options.HealthTimeout);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    public void Parse_Help_SetsHelp(string arg)
    {
        Assert.True(AppHostOptions.Parse([arg]).Help);
    }

    [Theory]
    [InlineData("--workers", "many")]
    [InlineData("--workers", "-1")]
    [InlineData("--gateway-port", "70000")]
    [InlineData("--bogus", "1")]
    public void Parse_BadArgument_ThrowsReadableError(string option, string value)
    {
        var error = Assert.Throws<ArgumentException>(() => AppHostOptions.Parse([option, value]));
        Assert.Contains(option, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PrintTopology_Set()
    {
        Assert.True(AppHostOptions.Parse(["--print-topology"]).PrintTopology);
    }

    [Fact]
    public void Parse_MissingValue_Throws()
    {
        Assert.Throws<ArgumentException>(() => AppHostOptions.Parse(["--data-dir"]));
    }

    [Fact]
    public void Usage_NamesEveryOption()
    {
        foreach (var option in (string[])["--gateway-port", "--data-dir", "--workers", "--environment", "--no-redis", "--help"])
        {
            Assert.Contains(option, AppHostOptions.Usage, StringComparison.Ordinal);
        }
    }
}
