using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>Ready while the subscription's loop runs and polls; reports its assigned partitions.</summary>
internal sealed class KafkaSubscriptionHealthCheck(KafkaSubscriptionState state, TimeSpan maxSilence, TimeProvider time) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>
        {
            ["topic"] = state.Topic,
            ["group"] = state.GroupId,
            ["partitions"] = string.Join(',', state.AssignedPartitions),
            ["lastPoll"] = state.LastPoll,
        };
        if (!state.Running)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(state.Fault ?? "The consumer is not running.", data: data));
        }
        var silence = time.GetUtcNow() - state.LastPoll;
        return Task.FromResult(silence > maxSilence
            ? HealthCheckResult.Unhealthy($"The consumer has not polled for {silence.TotalSeconds:F0} s.", data: data)
            : HealthCheckResult.Healthy(data: data));
    }
}
