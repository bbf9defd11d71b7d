using System.Net;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Queueing;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Storage.Resume;
using TorrentEdge.Engine.Throttling;
using TorrentEdge.Engine.Trackers;

namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// What a torrent needs from the engine that holds it, and nothing more: settings, the shared seams (clock, storage,
/// connections, trackers), engine-wide connection slots, the event stream and the queue. <see cref="ClientEngine"/>
/// implements it; a torrent never sees the engine itself.
/// </summary>
internal interface ITorrentHost
{
    EngineOptions Options { get; }
    TimeProvider TimeProvider { get; }
    PeerId PeerId { get; }
    IPEndPoint? ListenEndPoint { get; }
    EngineMetrics Metrics { get; }
    ResumeDataStore? ResumeStore { get; }
    IPieceStoreFactory PieceStores { get; }
    IPeerConnectionFactory ConnectionFactory { get; }
    ITrackerClientFactory TrackerClients { get; }
    QueueLimits QueueLimits { get; }
    GlobalRateLimits RateLimits { get; }

    long NextAddedOrder();
    void Emit(TorrentEvent e);

    bool TryReserveConnection();
    void ReleaseConnection();
    bool TryReserveHalfOpen();
    void ReleaseHalfOpen();
    /// <summary>This torrent found no half-open slot: nudge it when one frees.</summary>
    void DialsDeferred();

    Task UpdateQueueAsync(CancellationToken cancellationToken);
    /// <summary>Runs the queue off the caller's thread (a loop must never wait on it).</summary>
    void RequestQueueUpdate();
    void OnTorrentStateChanged(TorrentManager torrent);
}
