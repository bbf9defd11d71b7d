using TorrentEdge.Engine.Trackers;

namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// A torrent's tracker traffic, owned by its loop: starts the <see cref="TrackerManager"/> when the torrent transfers,
/// runs one announce at a time off the loop (its result comes back as an <see cref="AnnounceDoneMessage"/>), and sends
/// "stopped" when the torrent stops. The peers it returns enter through the roster like those of any other source.
/// </summary>
internal sealed class Announcer(Func<TrackerManager> create, Func<TorrentMessage, bool> post, Action<Task> track)
{
    private TrackerManager? _trackers;

    /// <summary>Per-tracker health and counts (empty while stopped).</summary>
    public IReadOnlyList<TrackerStatus> Status => _trackers?.Status ?? [];

    /// <summary>An announce is in flight.</summary>
    public bool IsAnnouncing { get; private set; }

    public bool IsStarted => _trackers is not null;

    /// <summary>Whether an announce should go out now.</summary>
    public bool IsDue => _trackers is { IsAnnounceDue: true } && !IsAnnouncing;

    public void Start(bool completed)
    {
        if (_trackers is not null) return;
        _trackers = create();
        if (completed) _trackers.MarkCompleted();
    }

    /// <summary>Announces off the loop; its result is posted back.</summary>
    public void Announce(AnnounceStats stats, CancellationToken cancellationToken)
    {
        if (_trackers is not { } trackers || IsAnnouncing) return;
        IsAnnouncing = true;
        track(Task.Run(async () =>
        {
            AnnounceResult result;
            try
            {
                result = await trackers.AnnounceAsync(stats, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            post(new AnnounceDoneMessage(result));
        }, CancellationToken.None));
    }

    /// <summary>The announce in flight returned (the loop).</summary>
    public void Done() => IsAnnouncing = false;

    /// <summary>Starved of peers: ask again as soon as the trackers' minimum interval allows.</summary>
    public void RequestAnnounce()
    {
        if (!IsAnnouncing) _trackers?.RequestAnnounce();
    }

    public void MarkCompleted() => _trackers?.MarkCompleted();

    /// <summary>Sends "stopped", best effort and bounded by the manager's stop timeout, then lets the trackers go.</summary>
    public void Stop(AnnounceStats stats)
    {
        if (_trackers is not { } trackers) return;
        _trackers = null;
        IsAnnouncing = false;
        track(Task.Run(async () =>
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
