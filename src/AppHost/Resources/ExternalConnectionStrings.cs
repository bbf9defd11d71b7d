using System.Net.Sockets;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace TorrentEdge.AppHost.Resources;

/// <summary>
/// Infrastructure given by connection string (<c>ConnectionStrings__{name}</c>): not started here, but health-checked
/// by reaching one of its hosts, so that the services that wait for it wait visibly ("Unhealthy" in the dashboard)
/// instead of crash-looping on a server that does not answer.
/// </summary>
public static class ExternalConnectionStrings
{
    public static IResourceBuilder<IResourceWithConnectionString> AddExternalConnectionString(this IDistributedApplicationBuilder builder, string name)
    {
        var resource = builder.AddConnectionString(name);
        if (builder.ExecutionContext.IsRunMode)
        {
            builder.WithReachabilityCheck(resource.Resource, $"ConnectionStrings__{name}");
            resource.WithHealthCheck($"{name}-reachable");
        }
        return resource;
    }

    /// <summary>
    /// Registers the health check <c>{name}-reachable</c> for <paramref name="resource"/>, which also says on the
    /// console when the resource stops or starts answering (the dashboard shows it per resource, the console once).
    /// </summary>
    public static void WithReachabilityCheck(this IDistributedApplicationBuilder builder, IResourceWithConnectionString resource, string origin) =>
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration($"{resource.Name}-reachable",
            services => new ReachabilityHealthCheck(resource, origin, services.GetRequiredService<ILoggerFactory>().CreateLogger("TorrentEdge")),
            failureStatus: null, tags: null));

    private sealed class ReachabilityHealthCheck(IResourceWithConnectionString resource, string origin, ILogger logger) : IHealthCheck
    {
        private HealthStatus? _last;

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var result = await Reachable(await resource.GetConnectionStringAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
            if (result.Status != _last)
            {
                _last = result.Status;
                if (result.Status == HealthStatus.Healthy)
                {
                    logger.LogInformation("{Resource} answers ({Description}).", resource.Name, result.Description);
                }
                else
                {
                    logger.LogWarning("{Resource} ({Origin}) does not answer: {Description}", resource.Name, origin, result.Description);
                }
            }
            return result;
        }
    }

    /// <summary>Healthy when a TCP connection to any of the connection string's hosts opens within 2 s.</summary>
    public static async Task<HealthCheckResult> Reachable(string? connectionString, CancellationToken cancellationToken)
    {
        var endpoints = Endpoints(connectionString ?? "");
        if (endpoints.Count == 0)
        {
            return HealthCheckResult.Unhealthy("The connection string names no host:port.");
        }
        foreach (var (host, port) in endpoints)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(2));
                using var client = new TcpClient();
                await client.ConnectAsync(host, port, timeout.Token).ConfigureAwait(false);
                return HealthCheckResult.Healthy($"{host}:{port} answers");
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
            }
        }
        return HealthCheckResult.Unhealthy($"No host answers: {string.Join(", ", endpoints.Select(e => $"{e.Host}:{e.Port}"))}. The services that need it wait.");
    }

    /// <summary>
    /// The <c>host:port</c> pairs of a Kafka bootstrap list (<c>a:9092,b:9092</c>), a StackExchange.Redis string
    /// (<c>host:6379,password=...</c>) or a MongoDB URL (<c>mongodb://user:pw@a:27017,b/db?x=y</c>).
    /// </summary>
    public static IReadOnlyList<(string Host, int Port)> Endpoints(string connectionString)
    {
        var text = connectionString.Trim();
        var defaultPort = 0;
        if (text.StartsWith("mongodb://", StringComparison.OrdinalIgnoreCase))
        {
            text = text["mongodb://".Length..];
            text = text[(text.LastIndexOf('@') + 1)..];
            var end = text.IndexOfAny(['/', '?']);
            text = end < 0 ? text : text[..end];
            defaultPort = 27017;
        }
        var result = new List<(string, int)>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part.Contains('='))
            {
                continue; // a Redis option such as password=...
            }
            var colon = part.LastIndexOf(':');
            if (colon > 0 && int.TryParse(part[(colon + 1)..], out var port))
            {
                result.Add((part[..colon].Trim('[', ']'), port));
            }
            else if (defaultPort != 0 || part.Length > 0)
            {
                result.Add((part, defaultPort != 0 ? defaultPort : 6379));
            }
        }
        return result;
    }
}
