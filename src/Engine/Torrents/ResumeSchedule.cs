using TorrentEdge.Engine.Common;

namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// When a torrent's resume data is due: after something worth keeping changed (a verified piece, new file priorities,
/// a recheck), at most once per <see cref="Interval"/> on the engine's clock, so a fast download does not write resume
/// data per piece and a test steps the clock instead of sleeping. Owned by the torrent's loop.
/// </summary>
internal sealed class ResumeSchedule(TimeSpan interval, TimeProvider time)
{
    private long _lastSave = time.NowMilliseconds();

    public TimeSpan Interval { get; } = interval;

    /// <summary>Something changed since the last save.</summary>
    public bool IsDirty { get; private set; }

    /// <summary>Dirty, and the interval since the last save has passed.</summary>
    public bool IsDue => IsDirty && time.NowMilliseconds() - _lastSave >= Interval.TotalMilliseconds;

    public void MarkDirty() => IsDirty = true;

    /// <summary>What is on record is current (resume data just trusted at start).</summary>
    public void MarkClean() => IsDirty = false;

    /// <summary>A save was queued now.</summary>
    public void Saved()
    {
        IsDirty = false;
        _lastSave = time.NowMilliseconds();
    }
}
