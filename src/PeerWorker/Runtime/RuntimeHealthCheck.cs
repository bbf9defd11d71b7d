using Microsoft.Extensions.Diagnostics.HealthChecks;
using TorrentEdge.PeerWorker.Reconciliation;

namespace TorrentEdge.PeerWorker.Runtime;

/// <summary>Ready while the engine runs; reports how many torrents it holds and this replica owns.</summary>
internal sealed class RuntimeHealthCheck(ITorrentRuntime runtime, OwnedTorrents owned) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["torrents"] = runtime.GetSnapshots().Count,
            ["owned"] = owned.Count,
        };
        return Task.FromResult(runtime.HealthProblem is { } problem
            ? HealthCheckResult.Unhealthy(problem, data: data)
            : HealthCheckResult.Healthy(data: data));
    }
}
