using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.IdentityModel.Tokens;

namespace TorrentEdge.ServiceDefaults.Auth;

/// <summary>Lets a service accept Catalog's access tokens, validating them with the public keys Catalog publishes.</summary>
public static class JwtValidationExtensions
{
    /// <summary>The named HttpClient that fetches the JWKS (service discovery and resilience come from the defaults).</summary>
    public const string JwksHttpClientName = "torrentedge-jwks";

    /// <summary>Where Catalog publishes its keys, resolved through service discovery.</summary>
    public const string DefaultJwksUrl = "http://catalog/.well-known/jwks.json";

    /// <summary>
    /// JWT bearer authentication against Catalog's JWKS (<c>Auth:JwksUrl</c>, cached, refetched when an unknown key id
    /// appears), with issuer and audience checks (<c>Auth:Issuer</c>, <c>Auth:Audience</c>, both "torrentedge" by default).
    /// SignalR clients cannot set headers on WebSockets, so on /hubs paths the token is also read from <c>access_token</c>.
    /// </summary>
    public static TBuilder AddTorrentEdgeJwtValidation<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var section = builder.Configuration.GetSection("Auth");
        var jwksUrl = section["JwksUrl"] is { Length: > 0 } url ? url : DefaultJwksUrl;
        var issuer = section["Issuer"] is { Length: > 0 } i ? i : "torrentedge";
        var audience = section["Audience"] is { Length: > 0 } a ? a : "torrentedge";

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
                options.TokenValidationParameters = new TokenValidationParameters
                {
                    ValidIssuer = issuer,
                    ValidAudience = audience,
                    ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256, SecurityAlgorithms.RsaSha256],
                    NameClaimType = "name",
                    RoleClaimType = "role",
                    ClockSkew = TimeSpan.FromSeconds(30),
                };
                options.Events = new JwtBearerEvents
                {
                    OnMessageReceived = context =>
                    {
                        if (context.HttpContext.Request.Path.StartsWithSegments("/hubs")
                            && context.Request.Query["access_token"].ToString() is { Length: > 0 } token)
                        {
                            context.Token = token;
                        }
                        return Task.CompletedTask;
                    },
                };
            });
        builder.Services.AddAuthorization();
        return builder;
    }
}
