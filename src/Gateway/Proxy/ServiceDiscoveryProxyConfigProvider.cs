using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Yarp.ReverseProxy.Configuration;

namespace TorrentEdge.Gateway.Proxy;

/// <summary>
/// Builds YARP's routes and clusters from <see cref="GatewayRoutes"/> and the service-discovery entries of
/// configuration in Aspire's convention (<c>services:&lt;name&gt;:http:&lt;i&gt;</c>), and rebuilds them when
/// configuration reloads. Microsoft.Extensions.ServiceDiscovery.Yarp is not available here; this is its
/// configuration-provider half.
/// </summary>
public sealed class ServiceDiscoveryProxyConfigProvider : IProxyConfigProvider, IDisposable
{
    private readonly IConfiguration _configuration;
    private readonly IOptionsMonitor<GatewayOptions> _options;
    private readonly IHostEnvironment _environment;
    private readonly IDisposable _reloadRegistration;
    private volatile Snapshot _snapshot;

    public ServiceDiscoveryProxyConfigProvider(IConfiguration configuration, IOptionsMonitor<GatewayOptions> options, IHostEnvironment environment)
    {
        _configuration = configuration;
        _options = options;
        _environment = environment;
        _snapshot = Build();
        _reloadRegistration = ChangeToken.OnChange(configuration.GetReloadToken, Reload);
    }

    public IProxyConfig GetConfig() => _snapshot;

    public void Dispose()
    {
        _reloadRegistration.Dispose();
        _snapshot.Dispose();
    }

    private void Reload()
    {
        var previous = _snapshot;
        _snapshot = Build();
        previous.SignalChange();
    }

    private Snapshot Build()
    {
        var options = _options.CurrentValue;
        var apiDocs = options.ApiDocs ?? _environment.IsDevelopment();
        var routes = GatewayRoutes.All.Where(r => apiDocs || !r.ApiDocs).Select(r => new RouteConfig
        {
            RouteId = r.Id,
            ClusterId = r.Service,
            Order = r.Order,
            Match = new RouteMatch { Path = r.Path },
        }).ToList();

        var clusters = GatewayRoutes.Services.Select(service => new ClusterConfig
        {
            ClusterId = service,
            LoadBalancingPolicy = options.LoadBalancingPolicy,
            Destinations = ResolveDestinations(_configuration, service),
            HealthCheck = new HealthCheckConfig
            {
                // With every replica down, trying one still beats a certain 503.
                AvailableDestinationsPolicy = "HealthyOrPanic",
                Active = new ActiveHealthCheckConfig
                {
                    Enabled = options.HealthCheck.Enabled,
                    Interval = options.HealthCheck.Interval,
                    Timeout = options.HealthCheck.Timeout,
                    Path = options.HealthCheck.Path,
                    Policy = "ConsecutiveFailures",
                },
            },
        }).ToList();

        return new Snapshot(routes, clusters);
    }

    /// <summary>
    /// Reads <c>services:&lt;service&gt;:https:*</c>, or when there are none <c>services:&lt;service&gt;:http:*</c>,
    /// one destination per entry (one per replica).
    /// </summary>
    public static IReadOnlyDictionary<string, DestinationConfig> ResolveDestinations(IConfiguration configuration, string service)
    {
        var section = configuration.GetSection("services").GetSection(service);
        foreach (var scheme in (string[])["https", "http"])
        {
            var destinations = new Dictionary<string, DestinationConfig>(StringComparer.OrdinalIgnoreCase);
            foreach (var entry in section.GetSection(scheme).GetChildren())
            {
                if (!Uri.TryCreate(entry.Value, UriKind.Absolute, out var address))
                {
                    continue;
                }
                destinations[$"{service}-{scheme}-{entry.Key}"] = new DestinationConfig { Address = address.ToString() };
            }
            if (destinations.Count > 0)
            {
                return destinations;
            }
        }
        return new Dictionary<string, DestinationConfig>();
    }

    private sealed class Snapshot(IReadOnlyList<RouteConfig> routes, IReadOnlyList<ClusterConfig> clusters) : IProxyConfig, IDisposable
    {
        private readonly CancellationTokenSource _changed = new();
        private IChangeToken? _changeToken;

        public IReadOnlyList<RouteConfig> Routes { get; } = routes;

        public IReadOnlyList<ClusterConfig> Clusters { get; } = clusters;

        public IChangeToken ChangeToken => _changeToken ??= new CancellationChangeToken(_changed.Token);

        public void SignalChange() => _changed.Cancel();

        public void Dispose() => _changed.Dispose();
    }
}
