using System.Text.Json.Serialization;
using Confluent.Kafka;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;
using TorrentEdge.Contracts;
using TorrentEdge.Notifier.Hubs;
using TorrentEdge.Notifier.Infrastructure;
using TorrentEdge.Notifier.IntegrationEvents;
using TorrentEdge.ServiceDefaults.Auth;
using TorrentEdge.Notifier.Live;
using TorrentEdge.Notifier.SocketIO;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Notifier.Extensions;

/// <summary>
/// Registration of the Notifier: torrent-events become live events (<see cref="TorrentEventsConsumer"/>) that a bus
/// (Redis pub/sub with several replicas, in-process with one) hands to every replica's connections, on SignalR and Socket.IO.
/// </summary>
public static class NotifierExtensions
{
    /// <summary>All replicas share one consumer group: with the Redis backplane, the replica that consumes an event reaches every client.</summary>
    public const string ConsumerGroup = "notifier";

    public static IHostApplicationBuilder AddNotifier(this IHostApplicationBuilder builder)
    {
        // Enum names (e.g. "Downloading") rather than numbers, as on the Kafka wire.
        var signalR = builder.Services.AddSignalR()
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        var redis = builder.Configuration.GetConnectionString("redis");
        builder.Services.AddOptions<LiveOptions>().BindConfiguration("Notifier:Live");
        builder.Services.AddOptions<SocketIoOptions>().BindConfiguration("Notifier:SocketIO");
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<LiveConnections>();
        builder.Services.AddSingleton<KnownCategories>();
        builder.Services.AddSingleton<AccessTokenValidator>();
        builder.Services.AddSingleton<SocketIoServer>();
        if (!string.IsNullOrWhiteSpace(redis))
        {
            // SignalR's own backplane stays for anything sent through IHubContext to another replica's connection;
            // live events travel on RedisLiveBus, which reaches both transports.
            signalR.AddStackExchangeRedis(redis, o => o.Configuration.ChannelPrefix = RedisChannel.Literal("TorrentEdge.Notifier"));
            builder.Services.AddSingleton<IConnectionMultiplexer>(_ =>
            {
                var configuration = ConfigurationOptions.Parse(redis);
                configuration.AbortOnConnectFail = false;
                return ConnectionMultiplexer.Connect(configuration);
            });
            builder.Services.AddSingleton<RedisLiveBus>();
            builder.Services.AddSingleton<ILiveBus>(s => s.GetRequiredService<RedisLiveBus>());
            builder.Services.AddHostedService(s => s.GetRequiredService<RedisLiveBus>());
            builder.Services.AddSingleton<IQueueTotals, RedisQueueTotals>();
        }
        else
        {
            builder.Services.AddSingleton<ILiveBus, LocalLiveBus>();
            builder.Services.AddSingleton<IQueueTotals, InMemoryQueueTotals>();
        }
        if (string.IsNullOrWhiteSpace(redis) && !builder.Environment.IsDevelopment())
        {
            // Without a backplane, events consumed by one replica never reach clients connected to another.
            builder.Services.AddSingleton<IStartupFilter>(new WarnWithoutBackplane());
        }

        var userIds = new ClaimsUserIdProvider(AllowsQueryUser(builder));
        builder.Services.AddSingleton(userIds);
        builder.Services.AddSingleton<IUserIdProvider>(userIds);
        builder.Services.Configure<NotifierOptions>(builder.Configuration.GetSection(NotifierOptions.Section));
        builder.Services.AddSingleton<HubConnectionLimiter>();
        builder.Services.AddSingleton<UserConnections>();
        builder.Services.AddSingleton<IUserAccessListener>(sp => sp.GetRequiredService<UserConnections>());

        builder.Services.AddSingleton<PushedSequences>();
        // Live events want the broker to answer a fetch as soon as anything arrived; librdkafka's default of 500 ms
        // is what the embedded (mock) broker waits on every fetch, which was half a second on every event's way.
        var fetchWait = builder.Configuration.GetValue("Notifier:KafkaFetchWaitMs", 20);
        builder.AddKafkaMessaging(cfg => cfg.AddConsumer<TorrentEventsConsumer>(), o => o.ConfigureConsumer = c => c.FetchWaitMaxMs = fetchWait);
        // Live notifications: a new group starts at the end rather than replaying old progress to browsers.
        builder.AddKafkaSubscription(Topics.TorrentEvents, ConsumerGroup, o => o.AutoOffsetReset = AutoOffsetReset.Latest);
        return builder;
    }

    public static WebApplication MapNotifierHubs(this WebApplication app)
    {
        // A user at the limit is told so at negotiation (or at a direct WebSocket start), as a problem, before a
        // connection exists; requests that carry a negotiated connection's id are part of one already counted.
        app.UseWhen(c => c.Request.Path.StartsWithSegments(TorrentHub.Path) && !c.Request.Query.ContainsKey("id"), branch => branch.Use(async (context, next) =>
        {
            var limiter = context.RequestServices.GetRequiredService<HubConnectionLimiter>();
            if (context.RequestServices.GetRequiredService<ClaimsUserIdProvider>().GetUserId(context) is { } userId
                && limiter.Limit > 0 && limiter.OpenConnections(userId) >= limiter.Limit)
            {
                await TypedResults.Problem(
                        $"You have {limiter.Limit} live connections open, the most one user may hold; close one (another tab or client) first.",
                        statusCode: StatusCodes.Status429TooManyRequests, title: "Too many hub connections",
                        extensions: new Dictionary<string, object?> { ["limit"] = limiter.Limit })
                    .ExecuteAsync(context);
                return;
            }
            await next(context);
        }));
        // Socket.IO at the path its clients use by default; its sessions check tokens themselves (authenticate), like
        // the original design, so the endpoint is open to anonymous handshakes that can do nothing until then.
        var pipeline = ((IEndpointRouteBuilder)app).CreateApplicationBuilder().UseWebSockets();
        pipeline.Run(app.Services.GetRequiredService<SocketIoServer>().HandleAsync);
        app.MapMethods(SocketIoOptions.Path, ["GET", "POST"], pipeline.Build());
        // A connection lives no longer than the token it was opened with; the client reconnects with a fresh one.
        var hub = app.MapHub<TorrentHub>(TorrentHub.Path, o => o.CloseOnAuthenticationExpiration = true);
        if (DefaultAuthentication.IsEnabled(app.Configuration, app.Environment))
        {
            hub.RequireAuthorization();
        }
        return app;
    }

    private static bool AllowsQueryUser(IHostApplicationBuilder builder)
        => !DefaultAuthentication.IsEnabled(builder.Configuration, builder.Environment);

    private sealed class WarnWithoutBackplane : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger("TorrentEdge.Notifier")
                .LogWarning("ConnectionStrings:redis is not set: SignalR has no backplane, so run a single Notifier replica.");
            next(app);
        };
    }
}
