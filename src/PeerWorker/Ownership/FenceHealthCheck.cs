using Microsoft.Extensions.Diagnostics.HealthChecks;
using TorrentEdge.PeerWorker.Runtime;

namespace TorrentEdge.PeerWorker.Ownership;

/// <summary>
/// Degraded while the engine still runs torrents that this replica may no longer write (another replica claimed them:
/// <see cref="TorrentFence"/>), naming them; normally only for the moments between a frozen replica's SIGCONT and its
/// consumer learning that its partitions were lost, after which those torrents stop here.
/// </summary>
internal sealed class FenceHealthCheck(ITorrentRuntime runtime, TorrentFence fence) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var fenced = fence.Fenced(runtime.GetSnapshots().Select(s => s.InfoHash));
        return Task.FromResult(fenced.Count == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Degraded(
                $"Holds {fenced.Count} torrent(s) it may no longer write (another replica took them): {string.Join(", ", fenced)}",
                data: new Dictionary<string, object> { ["fenced"] = fenced }));
    }
}
