using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using TorrentEdge.ServiceDefaults.Hosting;

namespace TorrentEdge.ServiceDefaults.Tests.Hosting;

/// <summary>Outside Development a service with Development keys, secrets or settings does not start (issue 16).</summary>
public sealed class ProductionGuardTests
{
    private const string DevSecret = "DEV-ONLY-peerworker-secret-not-for-production";

    private static IHost Build(string environment, Dictionary<string, string?> settings)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = environment, ApplicationName = "guarded" });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.AddServiceDefaults();
        return builder.Build();
    }

    [Fact]
    public async Task Start_ProductionWithDevelopmentOnlySecret_RefusesNamingTheKeyNotTheValue()
    {
        using var host = Build("Production", new() { ["Auth:ServiceClients:peerworker"] = DevSecret });

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync(TestContext.Current.CancellationToken));

        Assert.Contains("Refusing to start guarded in the Production environment", refused.Message, StringComparison.Ordinal);
        Assert.Contains("Auth:ServiceClients:peerworker", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-for-production", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_DevelopmentWithDevelopmentOnlySecret_Starts()
    {
        using var host = Build("Development", new() { ["PeerWorker:CatalogClientSecret"] = DevSecret, ["DetailedErrors"] = "true" });

        await host.StartAsync(TestContext.Current.CancellationToken);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Start_ProductionWithCleanConfiguration_Starts()
    {
        using var host = Build("Production", new() { ["Auth:ServiceClients:peerworker"] = new string('k', 40) });

        await host.StartAsync(TestContext.Current.CancellationToken);
        await host.StopAsync(TestContext.Current.CancellationToken);
    }

    [Fact]
    public void FindViolations_DevelopmentKeyInlineOrByPath_AndDetailedErrors_AllReported()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, ProductionGuard.DevelopmentKeyMarker + ": never use it outside Development.\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Auth:SigningKey"] = File.ReadAllText(file),
                ["Auth:SigningKeyPath"] = file,
                ["DetailedErrors"] = "true",
            }).Build();

            var violations = ProductionGuard.FindViolations(configuration, new Environment("Staging"));

            Assert.Equal(3, violations.Count);
            Assert.Contains(violations, v => v.StartsWith("Auth:SigningKey is", StringComparison.Ordinal));
            Assert.Contains(violations, v => v.StartsWith("Auth:SigningKeyPath", StringComparison.Ordinal));
            Assert.Contains(violations, v => v.StartsWith("DetailedErrors", StringComparison.Ordinal));
            Assert.Empty(ProductionGuard.FindViolations(configuration, new Environment("Development")));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void FindViolations_OwnKeyFileNamedLikeTheDevelopmentOne_NotReported()
    {
        var directory = Directory.CreateTempSubdirectory();
        try
        {
            var path = Path.Combine(directory.FullName, "catalog-signing-key.pem");
            File.WriteAllText(path, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n");
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Auth:SigningKeyPath"] = path }).Build();

            Assert.Empty(ProductionGuard.FindViolations(configuration, new Environment("Production")));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private sealed class Environment(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;
        public string ApplicationName { get; set; } = "test";
        public string ContentRootPath { get; set; } = "/";
        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = new Microsoft.Extensions.FileProviders.NullFileProvider();
    }
}
