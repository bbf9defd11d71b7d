namespace TorrentEdge.Engine.Throttling;

/// <summary>
/// One direction of traffic (upload or download) for one torrent: bytes must pass both the
/// torrent's own bucket and the bucket shared by every torrent.
/// </summary>
public sealed class BandwidthLimiter
{
    public BandwidthLimiter(TokenBucket global, TokenBucket torrent)
    {
        ArgumentNullException.ThrowIfNull(global);
        ArgumentNullException.ThrowIfNull(torrent);
        Global = global;
        Torrent = torrent;
    }

    public TokenBucket Global { get; }

    public TokenBucket Torrent { get; }

    /// <summary>Takes <paramref name="bytes"/> from both buckets if both have them now, else from neither.</summary>
    public bool TryConsume(int bytes)
    {
        if (!Torrent.TryConsume(bytes)) return false;
        if (Global.TryConsume(bytes)) return true;
        Torrent.Refund(bytes);
        return false;
    }

    /// <summary>Waits until <paramref name="bytes"/> may pass both limits.</summary>
    public async ValueTask ConsumeAsync(int bytes, CancellationToken cancellationToken)
    {
        // The torrent's own (usually tighter) limit first, so a torrent waiting on itself does
        // not hold global tokens that other torrents could use.
        await Torrent.ConsumeAsync(bytes, cancellationToken).ConfigureAwait(false);
        try
        {
            await Global.ConsumeAsync(bytes, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Torrent.Refund(bytes);
            throw;
        }
    }
}

/// <summary>The upload and download buckets shared by all torrents, and the factory for per-torrent limiters.</summary>
public sealed class GlobalRateLimits
{
    private readonly TimeProvider _time;

    public GlobalRateLimits(long uploadBytesPerSecond = 0, long downloadBytesPerSecond = 0, TimeProvider? timeProvider = null)
    {
        _time = timeProvider ?? TimeProvider.System;
        Upload = new TokenBucket(uploadBytesPerSecond, _time);
        Download = new TokenBucket(downloadBytesPerSecond, _time);
    }

    public TokenBucket Upload { get; }

    public TokenBucket Download { get; }

    /// <summary>Limiters for a new torrent with its own limits (0 = unlimited).</summary>
    public (BandwidthLimiter Upload, BandwidthLimiter Download) CreateForTorrent(long uploadBytesPerSecond = 0, long downloadBytesPerSecond = 0) =>
        (new BandwidthLimiter(Upload, new TokenBucket(uploadBytesPerSecond, _time)),
         new BandwidthLimiter(Download, new TokenBucket(downloadBytesPerSecond, _time)));
}
