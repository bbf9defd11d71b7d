using System.Text.Json.Serialization;
using Confluent.Kafka;
using Microsoft.AspNetCore.SignalR;
using StackExchange.Redis;
using TorrentEdge.Contracts;
using TorrentEdge.Notifier.Hubs;
using TorrentEdge.Notifier.IntegrationEvents;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Notifier.Extensions;

/// <summary>Registration of the Notifier: SignalR (with a Redis backplane when configured) fed by torrent-events.</summary>
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
        if (!string.IsNullOrWhiteSpace(redis))
        {
            signalR.AddStackExchangeRedis(redis, o => o.Configuration.ChannelPrefix = RedisChannel.Literal("TorrentEdge.Notifier"));
        }
        else if (!builder.Environment.IsDevelopment())
        {
            // Without a backplane, events consumed by one replica never reach clients connected to another.
            builder.Services.AddSingleton<IStartupFilter>(new WarnWithoutBackplane());
        }

        builder.Services.AddSingleton<IUserIdProvider>(new ClaimsUserIdProvider(AllowsQueryUser(builder)));

        builder.Services.AddSingleton<PushedSequences>();
        builder.AddKafkaMessaging(cfg => cfg.AddConsumer<TorrentEventsConsumer>());
        // Live notifications: a new group starts at the end rather than replaying old progress to browsers.
        builder.AddKafkaSubscription(Topics.TorrentEvents, ConsumerGroup, o => o.AutoOffsetReset = AutoOffsetReset.Latest);
        return builder;
    }

    public static WebApplication MapNotifierHubs(this WebApplication app)
    {
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
