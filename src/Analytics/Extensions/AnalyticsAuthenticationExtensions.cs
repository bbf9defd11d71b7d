using TorrentEdge.ServiceDefaults.Auth;

namespace TorrentEdge.Analytics.Extensions;

/// <summary>
/// The statistics accept Catalog's access tokens (shared JWT validation from ServiceDefaults), as the Notifier does.
/// Authentication counts as configured outside Development always, and in Development when an <c>Auth</c> section or a
/// Catalog to fetch keys from (<c>services:catalog</c>) is configured. Otherwise (a bare Development run) nothing is
/// validated and every caller sees all statistics.
/// </summary>
public static class AnalyticsAuthenticationExtensions
{
    public static bool IsConfigured(IConfiguration configuration, IHostEnvironment environment)
        => !environment.IsDevelopment()
            || configuration.GetSection("Auth").Exists()
            || configuration.GetSection("services:catalog").Exists();

    public static IHostApplicationBuilder AddAnalyticsAuthentication(this IHostApplicationBuilder builder)
    {
        if (IsConfigured(builder.Configuration, builder.Environment))
        {
            builder.AddTorrentEdgeJwtValidation();
        }
        return builder;
    }

    public static WebApplication UseAnalyticsAuthentication(this WebApplication app)
    {
        if (IsConfigured(app.Configuration, app.Environment))
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }
        return app;
    }
}
