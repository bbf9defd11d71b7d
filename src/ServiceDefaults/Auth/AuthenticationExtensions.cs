using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using TorrentEdge.ServiceDefaults.Auth;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// The one validation of Catalog's access tokens that every service uses (eShop's <c>AddDefaultAuthentication</c>):
/// ES256 only, issuer and audience checked, keys from Catalog's JWKS.
/// </summary>
/// <remarks>
/// Disabled users: Catalog refuses them on every request, refuses their refresh tokens and revokes them when an admin
/// disables the account, and publishes each account's status to <c>torrent-users</c>. The other services validate without
/// calling Catalog (they keep working while it is away): they fold that topic into a <see cref="UserAccessList"/> and refuse
/// a token whose user is disabled, or whose role is no longer the user's, within about a second of the admin's change.
/// </remarks>
public static class DefaultAuthentication
{
    /// <summary>The named HttpClient that fetches the JWKS (service discovery and resilience come from the defaults).</summary>
    public const string JwksHttpClientName = "torrentedge-jwks";

    /// <summary>Where Catalog publishes its keys, resolved through service discovery.</summary>
    public const string DefaultJwksUrl = "http://catalog/.well-known/jwks.json";

    /// <summary>The only signing algorithm Catalog uses; anything else (RS256, HS256, none) is refused.</summary>
    public const string Algorithm = SecurityAlgorithms.EcdsaSha256;

    /// <summary>
    /// Whether tokens are required: always outside Development; in Development when an <c>Auth</c> section or a Catalog to
    /// fetch keys from (<c>services:catalog</c>) is configured. A bare Development run validates nothing.
    /// </summary>
    public static bool IsEnabled(IConfiguration configuration, IHostEnvironment environment)
        => !environment.IsDevelopment()
            || configuration.GetSection("Auth").Exists()
            || configuration.GetSection("services:catalog").Exists();

    /// <summary>
    /// JWT bearer authentication against Catalog's JWKS (<c>Auth:JwksUrl</c>, cached, refetched when an unknown key id
    /// appears), with issuer and audience checks (<c>Auth:Issuer</c>, <c>Auth:Audience</c>, both "torrentedge" by default).
    /// SignalR clients cannot set headers on WebSockets, so on /hubs paths the token is also read from <c>access_token</c>.
    /// Registers authorization in any case, so endpoints can be mapped the same way whether or not tokens are required.
    /// </summary>
    public static TBuilder AddDefaultAuthentication<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddAuthorization();
        if (!IsEnabled(builder.Configuration, builder.Environment))
        {
            return builder;
        }

        var section = builder.Configuration.GetSection("Auth");
        var jwksUrl = section["JwksUrl"] is { Length: > 0 } url ? url : DefaultJwksUrl;
        var issuer = section["Issuer"] is { Length: > 0 } i ? i : "torrentedge";
        var audience = section["Audience"] is { Length: > 0 } a ? a : "torrentedge";

        // Every replica folds torrent-users itself (no Catalog call per request): the disabled users it must refuse.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.Configure<UserAccessOptions>(builder.Configuration.GetSection(UserAccessOptions.Section));
        builder.Services.AddSingleton(sp => new UserAccessList(
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<IOptions<UserAccessOptions>>().Value.CatchUpGrace));
        builder.Services.AddHostedService<UserAccessConsumer>();
        builder.Services.AddHealthChecks().AddCheck<UserAccessHealthCheck>("user-access", tags: ["ready"]);

        builder.Services.AddHttpClient(JwksHttpClientName);
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<IHttpClientFactory, IServiceProvider>((options, clients, services) =>
            {
                options.MapInboundClaims = false;
                options.RequireHttpsMetadata = false;
                options.ConfigurationManager = new JwksConfigurationManager(
                    () => clients.CreateClient(JwksHttpClientName), new Uri(jwksUrl), services.GetService<TimeProvider>() ?? TimeProvider.System)
                {
                    Issuer = issuer,
                };
                options.TokenValidationParameters = CreateTokenValidationParameters(issuer, [audience]);
                options.Events = new JwtBearerEvents { OnMessageReceived = ReadHubTokenFromQuery, OnTokenValidated = RefuseDisabledUsers };
            });
        return builder;
    }

    /// <summary>
    /// What every TorrentEdge service checks in a token, Catalog included: ES256 only, the issuer, one of the audiences,
    /// the lifetime, and JWT claim names for the user's name and role. The caller adds the signing keys.
    /// </summary>
    public static TokenValidationParameters CreateTokenValidationParameters(string issuer, IEnumerable<string> audiences) => new()
    {
        ValidIssuer = issuer,
        ValidAudiences = audiences,
        // Pinning the algorithm is what stops key confusion: an RSA key in the set must not make RS256 tokens good.
        ValidAlgorithms = [Algorithm],
        RequireSignedTokens = true,
        RequireExpirationTime = true,
        ValidateLifetime = true,
        NameClaimType = "name",
        RoleClaimType = "role",
        // Small: the expiry is also when hub connections are closed.
        ClockSkew = TimeSpan.FromSeconds(30),
    };

    private static Task RefuseDisabledUsers(TokenValidatedContext context)
    {
        var list = context.HttpContext.RequestServices.GetRequiredService<UserAccessList>();
        var verdict = list.Check(context.Principal?.FindFirst("sub")?.Value, context.Principal?.FindFirst("role")?.Value);
        switch (verdict)
        {
            case UserAccessVerdict.Disabled:
                context.Fail("The account is disabled.");
                break;
            case UserAccessVerdict.RoleChanged:
                context.Fail("The account's role changed; refresh the token.");
                break;
            case UserAccessVerdict.NotCaughtUp:
                // Fail closed: this replica cannot tell yet who is disabled (its readiness check says so too).
                context.Fail("The list of disabled accounts is not loaded yet.");
                break;
        }
        return Task.CompletedTask;
    }

    private static Task ReadHubTokenFromQuery(MessageReceivedContext context)
    {
        if (context.HttpContext.Request.Path.StartsWithSegments("/hubs")
            && context.Request.Query["access_token"].ToString() is { Length: > 0 } token)
        {
            context.Token = token;
        }
        return Task.CompletedTask;
    }
}
