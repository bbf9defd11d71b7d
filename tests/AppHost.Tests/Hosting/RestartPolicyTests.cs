using TorrentEdge.AppHost.Hosting;

namespace TorrentEdge.AppHost.Tests.Hosting;

public sealed class RestartPolicyTests
{
    private readonly RestartPolicy _policy = new()
    {
        InitialDelay = TimeSpan.FromSeconds(1),
        MaxDelay = TimeSpan.FromSeconds(30),
        StableAfter = TimeSpan.FromSeconds(60),
        MaxRapidCrashes = 5,
    };

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(5, 16)]
    [InlineData(6, 30)]
    [InlineData(40, 30)]
    public void DelayFor_RapidCrashes_DoublesUpToTheCap(int crashes, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), _policy.DelayFor(crashes));
    }

    [Fact]
    public void NextCrashCount_AfterALongRun_StartsAfresh()
    {
        Assert.Equal(4, _policy.NextCrashCount(3, TimeSpan.FromSeconds(5)));
        Assert.Equal(1, _policy.NextCrashCount(3, TimeSpan.FromMinutes(5)));
    }

    [Fact]
    public void ShouldGiveUp_PastTheLimit_True()
    {
        Assert.False(_policy.ShouldGiveUp(5));
        Assert.True(_policy.ShouldGiveUp(6));
    }
}
