using TorrentEdge.Engine.Trackers;

namespace TorrentEdge.Engine.Torrents;

/// <summary>The torrent's side of its <see cref="Announcer"/>: when to start, announce and stop, and what to report.</summary>
public sealed partial class TorrentManager
{
    private Announcer? _announcer;

    /// <summary>Per-tracker health and counts (empty without trackers).</summary>
    public IReadOnlyList<TrackerStatus> TrackerStatus => _announcer?.Status ?? [];

    private Announcer CreateAnnouncer() => new(
        () => new TrackerManager(InfoHash, Host.PeerId.ToArray(), Host.Options.AnnouncePort ?? Host.ListenEndPoint?.Port ?? 0, Trackers,
            Host.TrackerClients, timeProvider: Host.TimeProvider),
        Post, Track);

    private void StartTrackers()
    {
        if (Trackers.Count == 0) return;
        (_announcer ??= CreateAnnouncer()).Start(completed: _completedAt is not null);
        AnnounceIfDue();
    }

    private AnnounceStats CurrentStats()
    {
        var left = Status.BytesWanted - Status.BytesDone;
        if (Metainfo is null) left = Math.Max(1, left);
        return new AnnounceStats(Status.Uploaded, _stats.Downloaded, Math.Max(0, left));
    }

    private void AnnounceIfDue()
    {
        if (_announcer is not { IsDue: true } announcer || !IsTransferring) return;
        PublishStatus();
        announcer.Announce(CurrentStats(), _stopping.Token);
    }

    private void OnAnnounceDone(AnnounceResult result)
    {
        _announcer?.Done();
        if (!result.Success) return;
        foreach (var peer in result.Peers) AddCandidate(peer, PeerSource.Tracker);
    }

    private void StopTrackers()
    {
        if (_announcer is not { IsStarted: true } announcer) return;
        announcer.Stop(CurrentStats());
    }
}
