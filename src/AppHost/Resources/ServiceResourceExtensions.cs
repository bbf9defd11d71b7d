using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TorrentEdge.AppHost.Resources;

/// <summary>What every TorrentEdge service resource has in common, and the suite's other small resources.</summary>
public static class ServiceResourceExtensions
{
    /// <summary>
    /// A service of the suite: one HTTP endpoint (fixed when <paramref name="port"/> is given), <c>/health</c> as
    /// its health check, the AppHost's environment name and the data folder.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AddService<TProject>(this IDistributedApplicationBuilder builder, string name, SuiteOptions suite, int? port = null)
        where TProject : IProjectMetadata, new() =>
        builder.AddProject<TProject>(name, launchProfileName: null)
            .RunBuiltExecutable()
            .WithHttpEndpoint(port: port is 0 ? null : port, name: "http")
            .WithPromptHttpHealthCheck("/health")
            .WithEnvironment("ASPNETCORE_ENVIRONMENT", suite.Environment)
            .WithEnvironment("DOTNET_ENVIRONMENT", suite.Environment)
            .WithEnvironment("TorrentEdge__DataDir", suite.DataDir)
            // As in the images and pods: glibc's per-thread malloc arenas were about 5 % of the suite's RSS (docs/footprint.md).
            .WithEnvironment("MALLOC_ARENA_MAX", "2");

    /// <summary><c>WithReference</c> and <c>WaitFor</c> when the resource exists (Redis is optional).</summary>
    public static IResourceBuilder<ProjectResource> WithOptionalReference(this IResourceBuilder<ProjectResource> project, IResourceBuilder<IResourceWithConnectionString>? resource) =>
        resource is null ? project : project.WithReference(resource).WaitFor(resource);

    /// <summary>
    /// A service's store: <c>ConnectionStrings__{name}</c> when given (a <c>mongodb://</c> URL selects MongoDB), else
    /// SQLite in the data folder (<c>{name without "db"}.db</c>: catalog.db, analytics.db).
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddDatabase(this IDistributedApplicationBuilder builder, string name, SuiteOptions suite)
    {
        if (builder.ExecutionContext.IsPublishMode || !string.IsNullOrEmpty(builder.Configuration.GetConnectionString(name)))
        {
            return builder.AddExternalConnectionString(name);
        }
        Directory.CreateDirectory(suite.DataDir);
        var path = Path.Combine(suite.DataDir, (name.EndsWith("db", StringComparison.Ordinal) ? name[..^2] : name) + ".db");
        return builder.AddConnectionString(name, ReferenceExpression.Create($"Data Source={path}"));
    }

    /// <summary>
    /// A credential shared by two services: generated per run in Development, otherwise required from
    /// configuration (<c>Parameters__{name}</c>), so no default secret exists outside Development.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddServiceSecret(this IDistributedApplicationBuilder builder, string name) =>
        builder.Environment.EnvironmentName == "Development" && string.IsNullOrEmpty(builder.Configuration[$"Parameters:{name}"])
            ? builder.AddParameter(name, new GenerateParameterDefault { MinLength = 43, Special = false }, secret: true)
            : builder.AddParameter(name, secret: true);

    /// <summary>Prints the Gateway's address once it is healthy: what a person opens.</summary>
    public static IResourceBuilder<ProjectResource> AnnounceWhenReady(this IResourceBuilder<ProjectResource> gateway)
    {
        gateway.ApplicationBuilder.Eventing.Subscribe<ResourceReadyEvent>(gateway.Resource, (e, _) =>
        {
            var logger = e.Services.GetRequiredService<ILoggerFactory>().CreateLogger("TorrentEdge");
            var url = gateway.GetEndpoint("http").Url;
            logger.LogInformation("TorrentEdge is ready: open the Gateway at {Url} (API under {Url}/api)", url, url);
            return Task.CompletedTask;
        });
        return gateway;
    }
}
