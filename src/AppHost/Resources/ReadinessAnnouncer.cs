using Microsoft.Extensions.DependencyInjection;
using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace TorrentEdge.AppHost.Resources;

/// <summary>
/// Says once on the console when every instance of every resource that runs here (each project replica, the
/// embedded Kafka, redis-server) is running and healthy, and how long that took: the moment the suite is whole.
/// </summary>
public sealed partial class ReadinessAnnouncer(DistributedApplicationModel model, ResourceNotificationService notifications, ILogger<ReadinessAnnouncer> logger)
    : BackgroundService
{
    private readonly Stopwatch _since = Stopwatch.StartNew();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var expected = model.Resources
            .Where(r => r is ProjectResource or EmbeddedKafkaResource or RedisServerResource)
            .ToDictionary(r => r.Name, r => r is ProjectResource project ? project.GetReplicaCount() : 1, StringComparer.Ordinal);
        var instances = new Dictionary<string, (string Resource, bool Healthy)>(StringComparer.Ordinal);
        try
        {
            await foreach (var e in notifications.WatchAsync(stoppingToken).ConfigureAwait(false))
            {
                if (!expected.ContainsKey(e.Resource.Name))
                {
                    continue;
                }
                instances[e.ResourceId] = (e.Resource.Name, e.Snapshot.State?.Text == KnownResourceStates.Running && e.Snapshot.HealthStatus == HealthStatus.Healthy);
                var ready = expected.All(r => instances.Values.Count(i => i.Healthy && i.Resource == r.Key) >= r.Value);
                if (ready)
                {
                    LogAllHealthy(logger, expected.Values.Sum(), _since.Elapsed.TotalSeconds);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "All {Count} processes of the suite are running and healthy, {Seconds:0.0} s after the AppHost started.")]
    private static partial void LogAllHealthy(ILogger logger, int count, double seconds);
}

public static class ReadinessAnnouncerExtensions
{
    /// <summary>Prints, once, when every process of the suite is running and healthy.</summary>
    public static IDistributedApplicationBuilder AnnounceWhenAllHealthy(this IDistributedApplicationBuilder builder)
    {
        builder.Services.AddHostedService<ReadinessAnnouncer>();
        return builder;
    }
}
