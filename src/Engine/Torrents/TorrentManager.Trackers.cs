using TorrentEdge.Engine.Trackers;

namespace TorrentEdge.Engine.Torrents;

/// <summary>Announces through the torrent's <see cref="TrackerManager"/> off the loop; the peers it returns come back as work.</summary>
public sealed partial class TorrentManager
{
    private TrackerManager? _trackers;
    private bool _announcing;

    /// <summary>Per-tracker health and counts (empty without trackers).</summary>
    public IReadOnlyList<TrackerStatus> TrackerStatus => _trackers?.Status ?? [];

    private void StartTrackers()
    {
        if (_trackers is null && Trackers.Count > 0)
        {
            var port = Engine.Options.AnnouncePort ?? Engine.ListenEndPoint?.Port ?? 0;
            _trackers = new TrackerManager(InfoHash, Engine.PeerId.ToArray(), port, Trackers, Engine.Trackers.Factory,
                timeProvider: Engine.TimeProvider);
            if (_completedAt is not null) _trackers.MarkCompleted();
        }
        AnnounceIfDue();
    }

    private AnnounceStats CurrentStats()
    {
        var left = Status.BytesWanted - Status.BytesDone;
        if (Metainfo is null) left = Math.Max(1, left);
        return new AnnounceStats(Status.Uploaded, _downloaded, Math.Max(0, left));
    }

    private void AnnounceIfDue()
    {
        if (_trackers is not { } trackers || _announcing || !trackers.IsAnnounceDue || !IsTransferring) return;
        _announcing = true;
        PublishStatus();
        var stats = CurrentStats();
        var token = _stopping.Token;
        Track(Task.Run(async () =>
        {
            AnnounceResult result;
            try
            {
                result = await trackers.AnnounceAsync(stats, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            Post(new Work(WorkKind.AnnounceDone, Data: result));
        }));
    }

    private void OnAnnounceDone(AnnounceResult result)
    {
        _announcing = false;
        if (!result.Success) return;
        foreach (var peer in result.Peers) AddCandidate(peer, PeerSource.Tracker);
    }

    private void StopTrackers()
    {
        if (_trackers is not { } trackers) return;
        _trackers = null;
        _announcing = false;
        var stats = CurrentStats();
        // "stopped" is best effort and bounded by the manager's stop timeout.
        Track(Task.Run(async () =>
        {
            try
            {
                await trackers.StopAsync(stats, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is TrackerException or OperationCanceledException or ObjectDisposedException)
            {
            }
            finally
            {
                trackers.Dispose();
            }
        }));
    }
}
