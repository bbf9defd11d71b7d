namespace TorrentEdge.AppHost.Hosting;

/// <summary>
/// Exponential backoff for restarting a crashed child, capped, that gives up after too many rapid crashes in a row.
/// A child that ran longer than <see cref="StableAfter"/> before it died starts the count afresh.
/// </summary>
public sealed record RestartPolicy
{
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan StableAfter { get; init; } = TimeSpan.FromSeconds(60);

    public int MaxRapidCrashes { get; init; } = 5;

    /// <summary>The next crash count given the previous one and how long the child ran.</summary>
    public int NextCrashCount(int previousRapidCrashes, TimeSpan uptime) =>
        uptime >= StableAfter ? 1 : previousRapidCrashes + 1;

    /// <summary>Whether to stop restarting after this many rapid crashes in a row.</summary>
    public bool ShouldGiveUp(int rapidCrashes) => rapidCrashes > MaxRapidCrashes;

    /// <summary>Delay before the restart that follows crash number <paramref name="rapidCrashes"/> (1-based): 1 s, 2 s, 4 s... up to the cap.</summary>
    public TimeSpan DelayFor(int rapidCrashes)
    {
        var exponent = Math.Clamp(rapidCrashes - 1, 0, 30);
        var ticks = InitialDelay.Ticks * Math.Pow(2, exponent);
        return ticks >= MaxDelay.Ticks ? MaxDelay : TimeSpan.FromTicks((long)ticks);
    }
}
