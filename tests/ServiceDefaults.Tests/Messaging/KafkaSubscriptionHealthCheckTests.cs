using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.ServiceDefaults.Tests.Messaging;

public sealed class KafkaSubscriptionHealthCheckTests
{
    [Fact]
    public async Task Check_RunningButNeverPolled_SilenceCountsFromStartAndReadsAsADuration()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 3, 0, 0, TimeSpan.Zero));
        var state = new KafkaSubscriptionState("torrent-specs", "peerworker") { StartedAt = time.GetUtcNow() };
        state.Running = true;
        var check = new KafkaSubscriptionHealthCheck(state, TimeSpan.FromMinutes(5), time);

        time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(HealthStatus.Healthy, (await check.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken)).Status);

        time.Advance(TimeSpan.FromMinutes(4) + TimeSpan.FromSeconds(7));
        var result = await check.CheckHealthAsync(new HealthCheckContext(), TestContext.Current.CancellationToken);
        Assert.Equal(HealthStatus.Unhealthy, result.Status);
        Assert.Equal("The consumer has not polled since it started 6 min 7 s ago (limit 5 min 0 s).", result.Description);
        Assert.Equal("never", result.Data["lastPoll"]);
    }

    [Theory]
    [InlineData(42, "42 s")]
    [InlineData(303, "5 min 3 s")]
    [InlineData(7620, "2 h 7 min")]
    [InlineData(273600, "3 d 4 h")]
    public void Describe_Seconds_ReadsAsPeopleWriteIt(int seconds, string expected) =>
        Assert.Equal(expected, KafkaSubscriptionHealthCheck.Describe(TimeSpan.FromSeconds(seconds)));
}
