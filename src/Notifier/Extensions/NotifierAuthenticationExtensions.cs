using TorrentEdge.ServiceDefaults.Auth;

namespace TorrentEdge.Notifier.Extensions;

/// <summary>
/// The hub accepts Catalog's access tokens (shared JWT validation from ServiceDefaults: JWKS, issuer, audience,
/// <c>access_token</c> on /hubs). Authentication counts as configured outside Development always, and in Development when an
/// <c>Auth</c> section or a Catalog to fetch keys from (<c>services:catalog</c>) is configured. Otherwise (a bare
/// Development run, the tests) nothing is validated and <see cref="Hubs.ClaimsUserIdProvider"/> takes <c>?user=</c>.
/// </summary>
public static class NotifierAuthenticationExtensions
{
    public static bool IsConfigured(IConfiguration configuration, IHostEnvironment environment)
        => !environment.IsDevelopment()
            || configuration.GetSection("Auth").Exists()
            || configuration.GetSection("services:catalog").Exists();

    public static IHostApplicationBuilder AddNotifierAuthentication(this IHostApplicationBuilder builder)
    {
        if (IsConfigured(builder.Configuration, builder.Environment))
        {
            builder.AddTorrentEdgeJwtValidation();
        }
        return builder;
    }

    public static WebApplication UseNotifierAuthentication(this WebApplication app)
    {
        if (IsConfigured(app.Configuration, app.Environment))
        {
            app.UseAuthentication();
            app.UseAuthorization();
        }
        return app;
    }
}
