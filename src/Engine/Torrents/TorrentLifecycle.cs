namespace TorrentEdge.Engine.Torrents;

/// <summary>What the loop does for a lifecycle change, in this order: stop transfers, enter a state, begin.</summary>
internal readonly record struct LifecycleStep(bool StopTransfers = false, TorrentState? Enter = null, bool Begin = false)
{
    public static readonly LifecycleStep None = default;
    public static readonly LifecycleStep Start = new(Begin: true);
}

/// <summary>
/// The torrent's lifecycle: its state and the flags that decide it (paused by the user, given a slot by the queue,
/// past a seed limit, failed), the transitions between them, and what each state allows (the torrent's modes:
/// fetching metadata, checking, downloading, seeding, finished, and the stopped ones: queued, paused, error, removed).
/// It decides; the loop carries out the <see cref="LifecycleStep"/> (closing peers, events, the queue). Loop only,
/// except the flags the engine's queue reads.
/// </summary>
internal sealed class TorrentLifecycle(bool paused)
{
    private bool _seedLimitReached;
    private bool _userPaused = paused;

    public TorrentState State { get; private set; } = TorrentState.Queued;

    /// <summary>Paused by the user (read by the engine's queue).</summary>
    public bool UserPaused => Volatile.Read(ref _userPaused);

    /// <summary>The engine's queue gave the torrent a slot.</summary>
    public bool AllowedToRun { get; private set; }

    /// <summary>A seed ratio or time limit was reached: it stays Finished (read by the engine's queue).</summary>
    public bool SeedLimitReached => Volatile.Read(ref _seedLimitReached);

    public string? Error { get; private set; }

    /// <summary>A file check is running (off the loop).</summary>
    public bool Checking { get; set; }

    // ---- what each state allows ----

    /// <summary>Peers are connected and served: fetching metadata, downloading, seeding or finished, and no seed limit reached.</summary>
    public bool IsTransferring => !SeedLimitReached &&
        State is TorrentState.Downloading or TorrentState.Seeding or TorrentState.Finished or TorrentState.FetchingMetadata;

    /// <summary>Complete as far as wanted: seeding, or finished with files skipped.</summary>
    public bool IsSeeding => State is TorrentState.Seeding or TorrentState.Finished;

    /// <summary>We dial peers: while transferring, and as a seed only when <paramref name="seedsDialPeers"/>.</summary>
    public bool DialsPeers(bool seedsDialPeers) => IsTransferring && !(IsSeeding && !seedsDialPeers);

    /// <summary>Blocks are requested and peers told we are interested only while downloading.</summary>
    public bool IsDownloading => State == TorrentState.Downloading;

    /// <summary>Starved of peers, the trackers are asked again as soon as they allow.</summary>
    public bool WantsPeers => State is TorrentState.Downloading or TorrentState.FetchingMetadata;

    /// <summary>Progress events are worth sending.</summary>
    public bool ReportsProgress => State is TorrentState.Downloading or TorrentState.Seeding or TorrentState.Finished or TorrentState.FetchingMetadata;

    /// <summary>Seeding time is counted (for the seed time limit).</summary>
    public bool CountsSeedTime => IsSeeding && !SeedLimitReached;

    // ---- transitions ----

    /// <summary>Enters <paramref name="state"/>; false when it is the state already.</summary>
    public bool TryEnter(TorrentState state, out TorrentState from)
    {
        from = State;
        if (from == state) return false;
        State = state;
        return true;
    }

    /// <summary>What the queue said when the torrent was added (before its loop runs).</summary>
    public void Initialise(bool allowedToRun) => AllowedToRun = allowedToRun;

    /// <summary>The loop started: paused, queued, or begin.</summary>
    public LifecycleStep Started() => WaitingOrBegin();

    /// <summary>A check finished: paused or queued in the meantime, or go on (null).</summary>
    public LifecycleStep? CheckDone() =>
        UserPaused ? new LifecycleStep(Enter: TorrentState.Paused)
        : !AllowedToRun ? new LifecycleStep(Enter: TorrentState.Queued)
        : null;

    public LifecycleStep Pause()
    {
        if (UserPaused) return LifecycleStep.None;
        Volatile.Write(ref _userPaused, true);
        return new LifecycleStep(StopTransfers: true, Enter: TorrentState.Paused);
    }

    /// <summary>Resumes a paused or failed torrent: it begins, or waits for a slot.</summary>
    public LifecycleStep Resume()
    {
        if (!UserPaused && State is not TorrentState.Error) return LifecycleStep.None;
        Volatile.Write(ref _userPaused, false);
        Error = null;
        return AllowedToRun ? LifecycleStep.Start : new LifecycleStep(Enter: TorrentState.Queued);
    }

    /// <summary>The queue gave or took the torrent's slot.</summary>
    public LifecycleStep SetAllowed(bool allowed)
    {
        if (AllowedToRun == allowed) return LifecycleStep.None;
        AllowedToRun = allowed;
        if (UserPaused || State == TorrentState.Error) return LifecycleStep.None;
        return allowed ? LifecycleStep.Start : new LifecycleStep(StopTransfers: true, Enter: TorrentState.Queued);
    }

    /// <summary>A seed limit was reached: stop seeding and stay Finished.</summary>
    public LifecycleStep FinishSeeding()
    {
        if (SeedLimitReached || UserPaused || State == TorrentState.Error) return LifecycleStep.None;
        Volatile.Write(ref _seedLimitReached, true);
        return new LifecycleStep(StopTransfers: true, Enter: TorrentState.Finished);
    }

    public LifecycleStep Fail(string message)
    {
        Error = message;
        return new LifecycleStep(StopTransfers: true, Enter: TorrentState.Error);
    }

    private LifecycleStep WaitingOrBegin() =>
        UserPaused ? new LifecycleStep(Enter: TorrentState.Paused)
        : !AllowedToRun ? new LifecycleStep(Enter: TorrentState.Queued)
        : LifecycleStep.Start;
}
