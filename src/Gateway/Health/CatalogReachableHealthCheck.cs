using Microsoft.Extensions.Diagnostics.HealthChecks;
using TorrentEdge.Gateway.Proxy;

namespace TorrentEdge.Gateway.Health;

/// <summary>
/// Ready only when at least one Catalog destination answers its <c>/alive</c>: almost every request the Gateway takes is
/// Catalog's, so a Gateway that cannot reach it would answer them 502 while reporting itself healthy.
/// </summary>
public sealed class CatalogReachableHealthCheck(IConfiguration configuration) : IHealthCheck, IDisposable
{
    public const string Name = "catalog";

    /// <summary>Catalog's liveness path (ServiceDefaults): it answers once the service listens, whatever its own dependencies do.</summary>
    public const string ProbePath = "/alive";

    // Not the factory's clients: ServiceDefaults gives those retries (up to 30 s), and a probe must answer within the
    // orchestrator's own timeout. One try per destination, a short limit, no proxy.
    private readonly HttpClient _http = new(new SocketsHttpHandler { UseProxy = false, ConnectTimeout = TimeSpan.FromSeconds(2) })
    {
        Timeout = TimeSpan.FromSeconds(3),
    };

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        // Read on every probe: the destinations follow configuration reloads as the proxy's do.
        var destinations = ServiceDiscoveryProxyConfigProvider.ResolveDestinations(configuration, GatewayRoutes.Catalog);
        if (destinations.Count == 0)
        {
            return HealthCheckResult.Unhealthy("Catalog has no address: set services:catalog:http:0 (Aspire's service discovery).");
        }
        var failures = new List<string>();
        foreach (var destination in destinations.Values)
        {
            var probe = new Uri(new Uri(destination.Address), ProbePath);
            try
            {
                using var response = await _http.GetAsync(probe, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return HealthCheckResult.Healthy($"Catalog answers at {destination.Address}.");
                }
                failures.Add($"{probe} answered {(int)response.StatusCode}");
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                failures.Add($"{probe}: {e.Message}");
            }
        }
        // The health middleware logs the failing check with this description; no log of our own per probe.
        return HealthCheckResult.Unhealthy("Catalog cannot be reached: " + string.Join("; ", failures));
    }

    public void Dispose() => _http.Dispose();
}
