namespace TorrentEdge.Gateway;

/// <summary>The Gateway's settings, bound from the <c>Gateway</c> configuration section.</summary>
public sealed class GatewayOptions
{
    public const string SectionName = "Gateway";

    /// <summary>Largest request body accepted, in bytes; larger ones get 413.</summary>
    public long MaxRequestBodyBytes { get; set; } = 32L * 1024 * 1024;

    /// <summary>YARP load-balancing policy for clusters with several replicas.</summary>
    public string LoadBalancingPolicy { get; set; } = "PowerOfTwoChoices";

    /// <summary>
    /// Proxies Catalog's OpenAPI document (<c>/openapi/v1.json</c>) and Scalar UI (<c>/scalar</c>); unset means on in
    /// Development only.
    /// </summary>
    public bool? ApiDocs { get; set; }

    public RateLimitOptions RateLimit { get; set; } = new();

    public HealthCheckOptions HealthCheck { get; set; } = new();

    public CorsOptions Cors { get; set; } = new();

    /// <summary>
    /// Which other origins' browser scripts may call the API. None by default in every environment: the web UI is served
    /// by the Gateway itself (same origin), and a token-bearing API open to any origin invites cross-site use.
    /// </summary>
    public sealed class CorsOptions
    {
        /// <summary>Exact origins, e.g. <c>https://ui.example.com</c> (scheme, host and port; no path, no wildcard).</summary>
        public List<string> AllowedOrigins { get; set; } = [];

        /// <summary>How long a browser may cache a preflight answer.</summary>
        public TimeSpan PreflightMaxAge { get; set; } = TimeSpan.FromMinutes(10);
    }

    /// <summary>Per-client fixed-window limit.</summary>
    public sealed class RateLimitOptions
    {
        /// <summary>Turns the limiter off altogether (load tests, trusted networks).</summary>
        public bool Enabled { get; set; } = true;

        /// <summary>Requests a client may make in one window.</summary>
        public int PermitLimit { get; set; } = 600;

        public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
    }

    /// <summary>YARP's active health checks against each destination's /health.</summary>
    public sealed class HealthCheckOptions
    {
        public bool Enabled { get; set; } = true;

        public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(10);

        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

        public string Path { get; set; } = "/health";
    }
}
