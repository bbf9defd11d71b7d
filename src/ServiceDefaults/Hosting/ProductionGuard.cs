using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace TorrentEdge.ServiceDefaults.Hosting;

/// <summary>
/// Outside Development, refuses to start a service configured with Development keys, secrets or settings: a deployment
/// copied from a development setup would otherwise run with keys and secrets that are public (committed, or printed).
/// </summary>
public static class ProductionGuard
{
    /// <summary>Marks values that are public and for development only (the dev Kustomize overlay's secrets carry it).</summary>
    public const string DevelopmentOnlyMarker = "DEV-ONLY";

    /// <summary>Written into the signing key Catalog generates in Development, so it is recognised wherever it is copied.</summary>
    public const string DevelopmentKeyMarker = "TorrentEdge development signing key";

    /// <summary>Runs the check when the host starts (before any other hosted service), so the whole configuration is seen.</summary>
    public static TBuilder AddProductionGuard<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IHostedService, ProductionGuardService>());
        return builder;
    }

    /// <summary>What is wrong with <paramref name="configuration"/> for an environment that is not Development; empty when nothing is.</summary>
    public static IReadOnlyList<string> FindViolations(IConfiguration configuration, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(environment);
        if (environment.IsDevelopment())
        {
            return [];
        }
        var found = new List<string>();
        foreach (var (key, value) in configuration.AsEnumerable())
        {
            // The key only: the value is a secret.
            if (value is not null && value.Contains(DevelopmentOnlyMarker, StringComparison.OrdinalIgnoreCase))
            {
                found.Add($"{key} holds a development-only value (it contains \"{DevelopmentOnlyMarker}\"); give it a secret of its own.");
            }
        }
        if (configuration["Auth:SigningKey"] is { } pem && pem.Contains(DevelopmentKeyMarker, StringComparison.Ordinal))
        {
            found.Add("Auth:SigningKey is the signing key generated for Development; create one (see docs/catalog.md) and keep it secret.");
        }
        // By content, not by file name: an operator may well name their own key file as the Development one is named.
        if (configuration["Auth:SigningKeyPath"] is { Length: > 0 } path && File.Exists(path)
            && File.ReadAllText(path).Contains(DevelopmentKeyMarker, StringComparison.Ordinal))
        {
            found.Add($"Auth:SigningKeyPath ({path}) holds the signing key generated for Development; use a key created for this deployment.");
        }
        if (configuration.GetValue<bool>("DetailedErrors"))
        {
            found.Add("DetailedErrors is on, which shows exception details to clients; it is a Development setting.");
        }
        return found;
    }

    private sealed class ProductionGuardService(IConfiguration configuration, IHostEnvironment environment) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            var violations = FindViolations(configuration, environment);
            if (violations.Count > 0)
            {
                throw new InvalidOperationException(
                    $"Refusing to start {environment.ApplicationName} in the {environment.EnvironmentName} environment with Development keys, "
                    + "secrets or settings:" + string.Concat(violations.Select(v => Environment.NewLine + " - " + v)));
            }
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
