using System.Text.Json.Serialization;
using TorrentEdge.Analytics.IntegrationEvents;
using TorrentEdge.Analytics.Model;
using TorrentEdge.Contracts;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Analytics.Extensions;

/// <summary>Registration of Analytics: the statistics store fed by torrent-events.</summary>
public static class AnalyticsExtensions
{
    /// <summary>
    /// One group for all replicas would split the events between them; each replica keeps its own complete picture, so
    /// run one replica (or give each its own group) until the statistics move to a shared store.
    /// </summary>
    public const string ConsumerGroup = "analytics";

    public static IHostApplicationBuilder AddAnalytics(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<StatisticsStore>();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));

        builder.AddKafkaMessaging(cfg => cfg.AddConsumer<TorrentEventsConsumer>());
        builder.AddKafkaSubscription(Topics.TorrentEvents, ConsumerGroup);
        return builder;
    }
}
