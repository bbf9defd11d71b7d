using System.IO.Compression;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.ResponseCompression;
using TorrentEdge.Gateway.Health;
using TorrentEdge.Gateway.Middleware;
using TorrentEdge.Gateway.Proxy;
using Yarp.ReverseProxy.Configuration;

namespace TorrentEdge.Gateway.Extensions;

/// <summary>Registration and pipeline of the Gateway: YARP over service discovery, limits, correlation ids, the web UI.</summary>
public static class GatewayExtensions
{
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(GatewayOptions.SectionName);
        builder.Services.Configure<GatewayOptions>(section);
        var options = section.Get<GatewayOptions>() ?? new GatewayOptions();

        // Kestrel enforces the limit on bodies without Content-Length too; the middleware answers the rest politely.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);

        builder.Services.AddSingleton<ServiceDiscoveryProxyConfigProvider>();
        builder.Services.AddSingleton<IProxyConfigProvider>(sp => sp.GetRequiredService<ServiceDiscoveryProxyConfigProvider>());
        // YARP sets X-Forwarded-For/Proto/Host/Prefix on every proxied request by default.
        builder.Services.AddReverseProxy();

        // Not tagged "live": an unreachable Catalog makes the Gateway not ready (/health), never restarted (/alive).
        builder.Services.AddSingleton<CatalogReachableHealthCheck>();
        builder.Services.AddHealthChecks().AddCheck<CatalogReachableHealthCheck>(CatalogReachableHealthCheck.Name, timeout: TimeSpan.FromSeconds(5));

        builder.Services.AddGatewayRateLimiting(options.RateLimit);
        builder.Services.AddCors(cors => cors.AddPolicy(CorsPolicy, policy => ConfigureCors(policy, options.Cors)));
        // The web UI's script and styles, compressed (about a third of their size); API answers and hub traffic are
        // not of these types and pass untouched.
        builder.Services.AddResponseCompression(compression =>
        {
            compression.EnableForHttps = true;
            compression.MimeTypes = WebUiCaching.CompressedTypes;
            compression.Providers.Add<BrotliCompressionProvider>();
            compression.Providers.Add<GzipCompressionProvider>();
        });
        builder.Services.Configure<BrotliCompressionProviderOptions>(o => o.Level = CompressionLevel.Optimal);
        builder.Services.Configure<GzipCompressionProviderOptions>(o => o.Level = CompressionLevel.Optimal);
        builder.Services.Configure<ForwardedHeadersOptions>(forwarded =>
        {
            // Only a proxy on this machine (a TLS terminator, say) may tell us who the client really is.
            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
        });
        return builder;
    }

    /// <summary>The one CORS policy, applied to everything the Gateway serves and proxies.</summary>
    public const string CorsPolicy = "gateway";

    internal static void ConfigureCors(Microsoft.AspNetCore.Cors.Infrastructure.CorsPolicyBuilder policy, GatewayOptions.CorsOptions options)
    {
        foreach (var origin in options.AllowedOrigins)
        {
            // A wildcard with credentials-bearing requests would hand the API to every site; a path is a mistake.
            if (!Uri.TryCreate(origin, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || origin.Contains('*')
                || uri.AbsolutePath != "/" || origin.EndsWith('/'))
            {
                throw new InvalidOperationException(
                    $"Gateway:Cors:AllowedOrigins has '{origin}': give exact origins such as https://ui.example.com (no path, no wildcard).");
            }
        }
        // Bearer tokens travel in the Authorization header, not cookies: no credentials mode is needed.
        policy.WithOrigins([.. options.AllowedOrigins])
            .WithMethods("GET", "POST", "PUT", "DELETE")
            .WithHeaders("authorization", "content-type", "x-correlation-id", "x-requested-with", "x-signalr-user-agent")
            .WithExposedHeaders("location", "retry-after", "x-correlation-id")
            .SetPreflightMaxAge(options.PreflightMaxAge);
    }

    public static WebApplication UseGateway(this WebApplication app)
    {
        app.UseForwardedHeaders();
        // Before the limits, so a refused request still says which origins may read it; a preflight from an origin
        // that is not allowed gets no CORS headers and the browser stops there.
        app.UseCors(CorsPolicy);
        app.UseMiddleware<CorrelationIdMiddleware>();
        app.UseMiddleware<RequestBodyLimitMiddleware>();
        app.UseRateLimiter();
        app.UseResponseCompression();
        app.UseDefaultFiles();
        app.UseStaticFiles(new StaticFileOptions { OnPrepareResponse = WebUiCaching.Apply });
        return app;
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        app.MapReverseProxy();
        return app;
    }
}
