using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>When resume data is due, on a fake clock.</summary>
public sealed class ResumeScheduleTests
{
    [Fact]
    public void IsDue_DirtyWithinTheInterval_NotUntilItPassed()
    {
        var time = new FakeTimeProvider();
        var schedule = new ResumeSchedule(TimeSpan.FromSeconds(5), time);
        schedule.Saved();
        schedule.MarkDirty();
        time.Advance(TimeSpan.FromSeconds(4.9));
        Assert.False(schedule.IsDue);
        time.Advance(TimeSpan.FromSeconds(0.2));
        Assert.True(schedule.IsDue);
        schedule.Saved();
        Assert.False(schedule.IsDue);
    }

    [Fact]
    public void IsDue_CleanPastTheInterval_NotDue()
    {
        var time = new FakeTimeProvider();
        var schedule = new ResumeSchedule(TimeSpan.FromSeconds(5), time);
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.False(schedule.IsDue);
        schedule.MarkDirty();
        Assert.True(schedule.IsDue);
        schedule.MarkClean();
        Assert.False(schedule.IsDue);
    }
}
