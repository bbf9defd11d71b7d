using System.Text.Json.Serialization;
using TorrentEdge.Analytics.Infrastructure;
using TorrentEdge.Analytics.IntegrationEvents;
using TorrentEdge.Analytics.Model;
using TorrentEdge.Contracts;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Analytics.Extensions;

/// <summary>Registration of Analytics: the statistics store fed by torrent-events.</summary>
public static class AnalyticsExtensions
{
    /// <summary>
    /// One group for all replicas would split the events between them while each serves from its own memory: run one
    /// replica. The store is shared, so a second replica with its own group would see everything, but would also write
    /// every event a second time under another id check; one replica is the design for now.
    /// </summary>
    public const string ConsumerGroup = "analytics";

    /// <summary>Connection string name of the store: SQLite by default, a <c>mongodb://</c> URL selects MongoDB.</summary>
    public const string ConnectionName = "analyticsdb";

    public static IHostApplicationBuilder AddAnalytics(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => CreateStore(sp.GetRequiredService<IConfiguration>()));
        builder.Services.AddSingleton<LiveStatistics>();
        builder.Services.AddSingleton<StatisticsRecorder>();
        // Before the subscription: the statistics are restored from the store before the first event is consumed.
        builder.Services.AddHostedService<StatisticsLoader>();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));

        builder.AddKafkaMessaging(cfg => cfg.AddConsumer<TorrentEventsConsumer>());
        builder.AddKafkaSubscription(Topics.TorrentEvents, ConsumerGroup);
        return builder;
    }

    /// <summary><c>ConnectionStrings:analyticsdb</c>, else SQLite at <c>&lt;TorrentEdge:DataDir&gt;/analytics.db</c>.</summary>
    public static IStatisticsStore CreateStore(IConfiguration configuration)
    {
        var connectionString = configuration.GetConnectionString(ConnectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            var dataDirectory = Path.GetFullPath(configuration["TorrentEdge:DataDir"] is { Length: > 0 } dir ? dir : ".torrentedge");
            connectionString = $"Data Source={Path.Combine(dataDirectory, "analytics.db")}";
        }
        return connectionString.StartsWith("mongodb://", StringComparison.OrdinalIgnoreCase)
            || connectionString.StartsWith("mongodb+srv://", StringComparison.OrdinalIgnoreCase)
            ? new MongoStatisticsStore(connectionString)
            : new SqliteStatisticsStore(connectionString);
    }
}

/// <summary>Creates the store's schema and restores the live statistics at start; then prunes old history every minute.</summary>
internal sealed partial class StatisticsLoader(IStatisticsStore store, LiveStatistics live, TimeProvider time, ILogger<StatisticsLoader> logger) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        var records = await store.LoadTorrentsAsync(cancellationToken).ConfigureAwait(false);
        live.Restore(records);
        LogRestored(logger, records.Count);
        await base.StartAsync(cancellationToken).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await store.PruneAsync(time.GetUtcNow(), stoppingToken).ConfigureAwait(false);
                await Task.Delay(TimeSpan.FromMinutes(1), time, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogPruneFailed(logger, e);
                await Task.Delay(TimeSpan.FromMinutes(1), time, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    [LoggerMessage(LogLevel.Information, "Restored the statistics of {Count} torrents from the store")]
    private static partial void LogRestored(ILogger logger, int count);

    [LoggerMessage(LogLevel.Warning, "Pruning old rate history failed")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}
