using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using TorrentEdge.Catalog.Apis;
using TorrentEdge.Catalog.Apis.Compat;
using TorrentEdge.Catalog.Apis.QBittorrent;
using TorrentEdge.Catalog.Apis.Transmission;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.IntegrationEvents;
using TorrentEdge.Catalog.Model;
using TorrentEdge.Contracts;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Catalog.Extensions;

/// <summary>Registration of Catalog's services: store, tokens, authentication, rate limits, outbox and projection.</summary>
public static class Extensions
{
    /// <summary>The authentication scheme that picks JWT or personal API token from the bearer value.</summary>
    public const string BearerOrApiToken = "BearerOrApiToken";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        var configuration = builder.Configuration;
        var dataDirectory = GetDataDirectory(configuration);

        services.TryAddSingleton(TimeProvider.System);
        services.Configure<AuthOptions>(configuration.GetSection(AuthOptions.Section));
        services.Configure<CatalogOptions>(configuration.GetSection(CatalogOptions.Section));
        var authOptions = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        var catalogOptions = configuration.GetSection(CatalogOptions.Section).Get<CatalogOptions>() ?? new CatalogOptions();

        // Loaded now, not lazily: a service without key material must fail at start, not at the first log-in.
        services.AddSingleton(SigningKeys.Load(authOptions, builder.Environment.IsDevelopment(), dataDirectory));
        ValidateServiceClients(authOptions);
        services.AddSingleton<TokenService>();
        services.AddSingleton<IPasswordHasher<User>, PasswordHasher<User>>();

        services.AddSingleton(CreateStore(configuration, dataDirectory));
        services.AddHostedService<StoreInitializer>();
        services.AddSingleton<ITorrentParser, EngineTorrentParser>();
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<TorrentRegistry>();
        services.AddSingleton<TorrentEventProjector>();
        services.AddSingleton<OutboxDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<OutboxDispatcher>());
        services.AddSingleton<UserAccessSignal>();
        services.AddHostedService<UserAccessPublisher>();
        services.AddSingleton<ITopicEndOffsets, KafkaTopicEndOffsets>();
        services.AddSingleton<SpecTopicWatch>();
        services.AddHostedService(sp => sp.GetRequiredService<SpecTopicWatch>());
        services.AddSingleton<ShareLimitEnforcer>();
        services.AddHostedService(sp => sp.GetRequiredService<ShareLimitEnforcer>());
        services.AddDownloadClientApis();

        // Specs go out through the outbox; the status projection reads torrent-events in its own consumer group.
        builder.AddKafkaMessaging(cfg => cfg.AddConsumer<TorrentEventsConsumer>());
        builder.AddKafkaSubscription(Topics.TorrentEvents, configuration["Catalog:ConsumerGroup"] is { Length: > 0 } group ? group : "catalog");

        services.ConfigureHttpJsonOptions(o =>
            o.SerializerOptions.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter(System.Text.Json.JsonNamingPolicy.CamelCase)));
        services.Configure<FormOptions>(o => o.MultipartBodyLengthLimit = catalogOptions.MaxTorrentFileBytes + 64 * 1024);
        // Routing refuses a content type an endpoint does not accept before the handler runs: say what it accepts.
        services.Configure<ProblemDetailsOptions>(o => o.CustomizeProblemDetails = context =>
        {
            if (context.ProblemDetails.Status == StatusCodes.Status415UnsupportedMediaType && context.ProblemDetails.Detail is null)
            {
                var request = context.HttpContext.Request;
                context.ProblemDetails.Title = "Unsupported content type";
                context.ProblemDetails.Detail = request.Path.StartsWithSegments("/api/torrents") && HttpMethods.IsPost(request.Method)
                    ? TorrentsApi.AddContentTypes
                    : $"This endpoint does not accept '{request.ContentType}'; send application/json.";
            }
        });
        services.Configure<ExceptionHandlerOptions>(o => o.StatusCodeSelector = e => e is BadHttpRequestException bad
            ? bad.StatusCode
            : StatusCodes.Status500InternalServerError);

        services.AddAuthentication(BearerOrApiToken)
            .AddPolicyScheme(BearerOrApiToken, "JWT or API token", o => o.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.ToString() is var header
                && header.StartsWith("Bearer " + TokenService.ApiTokenPrefix, StringComparison.OrdinalIgnoreCase)
                    ? ApiTokenAuthenticationHandler.SchemeName
                    : JwtBearerDefaults.AuthenticationScheme)
            .AddJwtBearer()
            .AddScheme<AuthenticationSchemeOptions, ApiTokenAuthenticationHandler>(ApiTokenAuthenticationHandler.SchemeName, null);
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<SigningKeys, IOptions<AuthOptions>>((o, keys, auth) =>
            {
                o.MapInboundClaims = false;
                // The same checks as every other service (ServiceDefaults), with Catalog's own key instead of the JWKS.
                // Users' tokens and service tokens; OnTokenValidated pairs each audience with its kind.
                o.TokenValidationParameters = DefaultAuthentication.CreateTokenValidationParameters(
                    auth.Value.Issuer, [auth.Value.Audience, auth.Value.ServiceAudience]);
                o.TokenValidationParameters.IssuerSigningKey = keys.PublicKey;
                o.Events = new JwtBearerEvents
                {
                    // A token outlives a disabled or deleted account by up to its lifetime unless checked here.
                    OnTokenValidated = async context =>
                    {
                        var auth = context.HttpContext.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value;
                        var isServiceToken = context.Principal?.HasClaim(JwtAudience, auth.ServiceAudience) == true;
                        if (isServiceToken || context.Principal?.IsService() == true)
                        {
                            // Both or neither: the service audience and the service role; and the client still configured.
                            var clientId = context.Principal?.FindFirst(CatalogClaims.Name)?.Value;
                            if (!isServiceToken || context.Principal?.IsService() != true || clientId is null
                                || !auth.ServiceClients.ContainsKey(clientId))
                            {
                                context.Fail("The service token is not valid or its client is no longer configured.");
                            }
                            return;
                        }
                        var store = context.HttpContext.RequestServices.GetRequiredService<ICatalogStore>();
                        var userId = context.Principal?.FindFirst(CatalogClaims.Subject)?.Value;
                        var user = userId is null ? null : await store.FindUserByIdAsync(userId, context.HttpContext.RequestAborted);
                        if (user is null || user.Disabled)
                        {
                            context.Fail("The account is disabled or no longer exists.");
                        }
                    },
                };
            });
        // The default policy (RequireAuthorization()) is for people: a service token is good for the metainfo only.
        services.AddAuthorizationBuilder()
            .SetDefaultPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().RequireRole(Roles.Admin, Roles.User).Build())
            .AddPolicy(AdminApi.AdminPolicy, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin))
            .AddPolicy(TorrentsApi.MetainfoReaderPolicy, p => p.RequireAuthenticatedUser().RequireRole(Roles.Admin, Roles.User, Roles.Service));
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            // Behind the Gateway every request comes from the Gateway: the client's address (which the log-in rate
            // limit partitions by) is in X-Forwarded-For. Trusted only from loopback unless configured (KnownProxies,
            // KnownNetworks, or ASPNETCORE_FORWARDEDHEADERS_ENABLED in a cluster where Catalog is not exposed).
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
        });

        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.AddPolicy(AuthApi.LoginRateLimitPolicy, context => RateLimitPartition.GetFixedWindowLimiter(
                context.Connection.RemoteIpAddress?.ToString() ?? "local",
                _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = Math.Max(1, context.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.LoginPermitsPerMinute),
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                }));
            o.OnRejected = async (context, cancellationToken) =>
            {
                var problems = context.HttpContext.RequestServices.GetRequiredService<IProblemDetailsService>();
                await problems.WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = context.HttpContext,
                    ProblemDetails = { Status = StatusCodes.Status429TooManyRequests, Title = "Too many attempts", Detail = "Wait a minute before trying again." },
                });
            };
        });

        services.AddOpenApi();
        return builder;
    }

    /// <summary>JWT "aud" claim type (inbound claims are not mapped).</summary>
    private const string JwtAudience = "aud";

    /// <summary>Refuses to start with a service client whose secret is empty or short enough to guess.</summary>
    private static void ValidateServiceClients(AuthOptions options)
    {
        foreach (var (clientId, secret) in options.ServiceClients)
        {
            if (string.IsNullOrEmpty(secret) || secret.Length < AuthOptions.MinServiceSecretLength)
            {
                throw new InvalidOperationException(
                    $"The secret of service client '{clientId}' (Auth:ServiceClients:{clientId}) must have at least {AuthOptions.MinServiceSecretLength} characters.");
            }
        }
    }

    public static string GetDataDirectory(IConfiguration configuration) =>
        Path.GetFullPath(configuration["TorrentEdge:DataDir"] is { Length: > 0 } dir ? dir : ".torrentedge");

    private static ICatalogStore CreateStore(IConfiguration configuration, string dataDirectory)
    {
        var connectionString = configuration.GetConnectionString("catalogdb");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            connectionString = $"Data Source={Path.Combine(dataDirectory, "catalog.db")}";
        }
        if (connectionString.StartsWith("mongodb://", StringComparison.OrdinalIgnoreCase)
            || connectionString.StartsWith("mongodb+srv://", StringComparison.OrdinalIgnoreCase))
        {
            return new MongoCatalogStore(connectionString);
        }
        return new SqliteCatalogStore(connectionString);
    }

    /// <summary>Problem details for every error, authentication, rate limits, and the endpoints.</summary>
    public static WebApplication MapCatalogApi(this WebApplication app)
    {
        app.UseForwardedHeaders();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();

        app.MapOpenApi();
        app.MapAuthApi();
        app.MapTorrentsApi();
        app.MapAdminApi();
        app.MapLabelsApi();
        app.MapTorrentDetailsApi();
        app.MapQBittorrentApi();
        app.MapTransmissionRpc();
        return app;
    }

    private static void TryAddSingleton<T>(this IServiceCollection services, T instance) where T : class
    {
        if (!services.Any(d => d.ServiceType == typeof(T)))
        {
            services.AddSingleton(instance);
        }
    }
}

/// <summary>Creates the schema or indexes before the service takes requests.</summary>
internal sealed class StoreInitializer(ICatalogStore store) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.InitializeAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
