using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>The lifecycle alone: each transition's decision, and what each state allows.</summary>
public sealed class TorrentLifecycleTests
{
    private static TorrentLifecycle In(TorrentState state, bool paused = false, bool allowed = true)
    {
        var life = new TorrentLifecycle(paused);
        life.Initialise(allowed);
        life.TryEnter(state, out _);
        return life;
    }

    [Theory]
    [InlineData(true, true, TorrentState.Paused, false)]
    [InlineData(true, false, TorrentState.Paused, false)]
    [InlineData(false, false, TorrentState.Queued, false)]
    [InlineData(false, true, null, true)]
    public void Started_PausedOrQueuedOrAllowed_WaitsOrBegins(bool paused, bool allowed, TorrentState? enter, bool begin)
    {
        var life = new TorrentLifecycle(paused);
        life.Initialise(allowed);
        var step = life.Started();
        Assert.False(step.StopTransfers);
        Assert.Equal(enter, step.Enter);
        Assert.Equal(begin, step.Begin);
    }

    [Fact]
    public void Pause_Running_StopsThenPausedOnce()
    {
        var life = In(TorrentState.Downloading);
        Assert.Equal(new LifecycleStep(StopTransfers: true, Enter: TorrentState.Paused), life.Pause());
        Assert.True(life.UserPaused);
        Assert.Equal(LifecycleStep.None, life.Pause());
    }

    [Fact]
    public void Resume_PausedWithoutSlot_Queued_WithSlot_Begins()
    {
        var life = In(TorrentState.Paused, paused: true, allowed: false);
        Assert.Equal(new LifecycleStep(Enter: TorrentState.Queued), life.Resume());
        Assert.False(life.UserPaused);
        Assert.Equal(LifecycleStep.None, life.Resume());

        life = In(TorrentState.Paused, paused: true, allowed: true);
        Assert.Equal(LifecycleStep.Start, life.Resume());
    }

    [Fact]
    public void Resume_Failed_ClearsTheErrorAndBegins()
    {
        var life = In(TorrentState.Downloading);
        Assert.Equal(new LifecycleStep(StopTransfers: true, Enter: TorrentState.Error), life.Fail("disk full"));
        life.TryEnter(TorrentState.Error, out _);
        Assert.Equal("disk full", life.Error);
        Assert.Equal(LifecycleStep.Start, life.Resume());
        Assert.Null(life.Error);
    }

    [Fact]
    public void SetAllowed_SlotTakenAndGiven_StopsQueuedThenBegins_ButNotWhilePausedOrFailed()
    {
        var life = In(TorrentState.Seeding);
        Assert.Equal(LifecycleStep.None, life.SetAllowed(true));
        Assert.Equal(new LifecycleStep(StopTransfers: true, Enter: TorrentState.Queued), life.SetAllowed(false));
        Assert.Equal(LifecycleStep.Start, life.SetAllowed(true));

        var paused = In(TorrentState.Paused, paused: true);
        Assert.Equal(LifecycleStep.None, paused.SetAllowed(false));
        Assert.False(paused.AllowedToRun);

        var failed = In(TorrentState.Error);
        Assert.Equal(LifecycleStep.None, failed.SetAllowed(false));
    }

    [Fact]
    public void FinishSeeding_Once_StopsAndStaysFinished_NotWhenPaused()
    {
        var life = In(TorrentState.Seeding);
        Assert.True(life.CountsSeedTime);
        Assert.Equal(new LifecycleStep(StopTransfers: true, Enter: TorrentState.Finished), life.FinishSeeding());
        life.TryEnter(TorrentState.Finished, out _);
        Assert.True(life.SeedLimitReached);
        Assert.False(life.IsTransferring);
        Assert.False(life.CountsSeedTime);
        Assert.Equal(LifecycleStep.None, life.FinishSeeding());

        Assert.Equal(LifecycleStep.None, In(TorrentState.Paused, paused: true).FinishSeeding());
    }

    [Fact]
    public void CheckDone_PausedOrQueuedInTheMeantime_WaitsElseGoesOn()
    {
        Assert.Equal(new LifecycleStep(Enter: TorrentState.Paused), In(TorrentState.Checking, paused: true).CheckDone());
        Assert.Equal(new LifecycleStep(Enter: TorrentState.Queued), In(TorrentState.Checking, allowed: false).CheckDone());
        Assert.Null(In(TorrentState.Checking).CheckDone());
    }

    [Theory]
    [InlineData(TorrentState.Queued, false, false, false, false)]
    [InlineData(TorrentState.FetchingMetadata, true, false, true, true)]
    [InlineData(TorrentState.Checking, false, false, false, false)]
    [InlineData(TorrentState.Downloading, true, true, true, true)]
    [InlineData(TorrentState.Seeding, true, false, false, true)]
    [InlineData(TorrentState.Finished, true, false, false, true)]
    [InlineData(TorrentState.Paused, false, false, false, false)]
    [InlineData(TorrentState.Error, false, false, false, false)]
    public void Modes_EachState_AllowsItsOwnWork(TorrentState state, bool transferring, bool downloading, bool wantsPeers, bool progress)
    {
        var life = In(state);
        Assert.Equal(transferring, life.IsTransferring);
        Assert.Equal(downloading, life.IsDownloading);
        Assert.Equal(wantsPeers, life.WantsPeers);
        Assert.Equal(progress, life.ReportsProgress);
        // A seed dials only when the engine says seeds dial.
        Assert.Equal(transferring && !life.IsSeeding, life.DialsPeers(seedsDialPeers: false));
        Assert.Equal(transferring, life.DialsPeers(seedsDialPeers: true));
    }

    [Fact]
    public void TryEnter_SameState_False()
    {
        var life = In(TorrentState.Downloading);
        Assert.False(life.TryEnter(TorrentState.Downloading, out _));
        Assert.True(life.TryEnter(TorrentState.Seeding, out var from));
        Assert.Equal(TorrentState.Downloading, from);
    }
}
