using System.Globalization;
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
            ["lastPoll"] = state.HasPolled ? state.LastPoll : "never",
        };
        if (!state.Running)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy(state.Fault ?? "The consumer is not running.", data: data));
        }
        // Before the first poll the silence counts from the loop's start, not from year 1.
        var now = time.GetUtcNow();
        var silence = now - (state.HasPolled ? state.LastPoll : state.StartedAt ?? now);
        if (silence <= maxSilence)
        {
            return Task.FromResult(HealthCheckResult.Healthy(data: data));
        }
        return Task.FromResult(HealthCheckResult.Unhealthy(state.HasPolled
            ? $"The consumer has not polled for {Describe(silence)} (limit {Describe(maxSilence)})."
            : $"The consumer has not polled since it started {Describe(silence)} ago (limit {Describe(maxSilence)}).", data: data));
    }

    /// <summary>A duration as people read it: "42 s", "5 min 3 s", "2 h 7 min", "3 d 4 h".</summary>
    public static string Describe(TimeSpan span)
    {
        var c = CultureInfo.InvariantCulture;
        return span.TotalSeconds < 60 ? string.Create(c, $"{Math.Max(0, (int)span.TotalSeconds)} s")
            : span.TotalMinutes < 60 ? string.Create(c, $"{(int)span.TotalMinutes} min {span.Seconds} s")
            : span.TotalHours < 24 ? string.Create(c, $"{(int)span.TotalHours} h {span.Minutes} min")
            : string.Create(c, $"{(int)span.TotalDays} d {span.Hours} h");
    }
}
