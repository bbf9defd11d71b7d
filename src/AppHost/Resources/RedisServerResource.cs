using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace TorrentEdge.AppHost.Resources;

/// <summary>Debian's <c>redis-server</c> on a loopback port, nothing persisted: the suite's cache and SignalR backplane.</summary>
public sealed class RedisServerResource(string name, string command, string workingDirectory)
    : ExecutableResource(name, command, workingDirectory), IResourceWithConnectionString
{
    public ReferenceExpression ConnectionStringExpression =>
        ReferenceExpression.Create($"{this.GetEndpoint("tcp").Property(EndpointProperty.HostAndPort)}");
}

/// <summary>Shown in the dashboard when the suite runs without Redis, with the reason.</summary>
public sealed class AbsentResource(string name) : Resource(name);

public static class RedisResourceExtensions
{
    /// <summary>
    /// Redis for the suite: <c>ConnectionStrings__{name}</c> when given, else <c>redis-server</c> when installed and
    /// not turned off (<c>--redis off</c>), else none (null; the dashboard shows why).
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString>? AddRedis(this IDistributedApplicationBuilder builder, string name, SuiteOptions suite)
    {
        if (builder.ExecutionContext.IsPublishMode || !string.IsNullOrEmpty(builder.Configuration.GetConnectionString(name)))
        {
            return builder.AddExternalConnectionString(name);
        }
        var executable = suite.Redis ? FindOnPath("redis-server") : null;
        if (executable is null)
        {
            builder.AddResource(new AbsentResource(name)).WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "Redis",
                State = new(suite.Redis ? "Not installed (apt-get install redis-server)" : "Off (--redis off)", KnownResourceStateStyles.Info),
                Properties = [],
            }).ExcludeFromManifest();
            return null;
        }

        Directory.CreateDirectory(suite.DataDir);
        var redis = builder.AddResource(new RedisServerResource(name, executable, suite.DataDir))
            .WithEndpoint(name: "tcp", scheme: "tcp");
        var endpoint = redis.Resource.GetEndpoint("tcp");
        // No RDB snapshots, no AOF: a cache and a backplane, nothing to keep.
        redis.WithArgs(context =>
        {
            context.Args.Add("--port");
            context.Args.Add(endpoint.Property(EndpointProperty.TargetPort));
            context.Args.Add("--bind");
            context.Args.Add("127.0.0.1");
            context.Args.Add("--save");
            context.Args.Add("");
            context.Args.Add("--appendonly");
            context.Args.Add("no");
        });
        builder.WithReachabilityCheck(redis.Resource, "redis-server");
        redis.WithHealthCheck($"{name}-reachable").ExcludeFromManifest();
        return builder.CreateResourceBuilder<IResourceWithConnectionString>(redis.Resource);
    }

    private static string? FindOnPath(string executable) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, executable))
            .FirstOrDefault(File.Exists);
}
