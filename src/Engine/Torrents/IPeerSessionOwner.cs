using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Throttling;

namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// What a peer session needs from the torrent it belongs to, and nothing more. A session runs on its own receive and
/// send tasks, never on the torrent's loop, so everything here is safe to call from them: it posts what it hears to
/// the loop, waits for room in the loop's queue, draws from the torrent's rate limits and reads blocks from storage.
/// <see cref="TorrentManager"/> implements it; a session never sees the torrent's state.
/// </summary>
internal interface IPeerSessionOwner
{
    /// <summary>The engine's clock (keep-alive and receive timestamps).</summary>
    TimeProvider TimeProvider { get; }

    EngineMetrics Metrics { get; }

    /// <summary>Frame size limits for this torrent (the bitfield's size depends on its piece count).</summary>
    FrameLimits FrameLimits { get; }

    /// <summary>The loop's queue: a session waits for room before reading on, so a flood cannot grow it.</summary>
    LoopQueue Queue { get; }

    BandwidthLimiter DownloadLimiter { get; }

    BandwidthLimiter UploadLimiter { get; }

    /// <summary>Where uploads are read from; null until the torrent's storage is open.</summary>
    IPieceStore? Storage { get; }

    /// <summary>The piece buffer a requested block is copied into, off the loop (null when the piece is not active).</summary>
    ActivePiece? GetActivePiece(int index);

    bool Post(in LoopItem item);

    bool Post(TorrentMessage message);

    /// <summary>Gives back the engine-wide half-open slot an outgoing session held until its handshake.</summary>
    void ReleaseHalfOpen();
}
