namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// A torrent's byte counters, rates and seeding time: what came in, what went out (before restarts, by peers since
/// gone, by peers connected now), the per-second rates counted on the tick, and the time spent seeding. The loop is
/// the only writer; <see cref="SeedTime"/> is also read by the engine's queue, from any thread.
/// </summary>
internal sealed class TransferStats
{
    private long _uploadedBase;
    private long _uploadedClosed;
    private long _downloadedAtLastTick;
    private long _uploadedAtLastTick;
    private long _seedMilliseconds;
    private DateTimeOffset _lastSeedTickAt;

    /// <summary>Payload bytes accepted from peers, including before restarts.</summary>
    public long Downloaded { get; private set; }

    /// <summary>Bytes per second received, as of the last tick.</summary>
    public long DownloadRate { get; private set; }

    /// <summary>Bytes per second sent, as of the last tick.</summary>
    public long UploadRate { get; private set; }

    /// <summary>Time spent seeding since the torrent was added, including before restarts (any thread).</summary>
    public TimeSpan SeedTime => TimeSpan.FromMilliseconds(Interlocked.Read(ref _seedMilliseconds));

    /// <summary>The counters resume data carried over from before a restart.</summary>
    public void Restore(long uploaded, long downloaded, TimeSpan seedingTime)
    {
        _uploadedBase = uploaded;
        Downloaded = downloaded;
        Interlocked.Exchange(ref _seedMilliseconds, (long)seedingTime.TotalMilliseconds);
    }

    public void BlockAccepted(int length) => Downloaded += length;

    /// <summary>A peer left: what it was sent stays counted.</summary>
    public void PeerClosed(PeerSession peer) => _uploadedClosed += peer.Uploaded;

    /// <summary>Payload bytes uploaded since the torrent was added, including before restarts and to peers connected now.</summary>
    public long Uploaded(List<PeerSession> peers)
    {
        var uploaded = _uploadedBase + _uploadedClosed;
        foreach (var p in peers) uploaded += p.Uploaded;
        return uploaded;
    }

    /// <summary>Once a tick: each peer's rates and the torrent's.</summary>
    public void Tick(List<PeerSession> peers)
    {
        long uploadedNow = _uploadedBase + _uploadedClosed;
        foreach (var p in peers)
        {
            p.DownloadRate = p.Downloaded - p.DownloadedAtLastTick;
            p.DownloadedAtLastTick = p.Downloaded;
            var up = p.Uploaded;
            p.UploadRate = up - p.UploadedAtLastTick;
            p.UploadedAtLastTick = up;
            uploadedNow += up;
        }
        DownloadRate = Downloaded - _downloadedAtLastTick;
        _downloadedAtLastTick = Downloaded;
        UploadRate = Math.Max(0, uploadedNow - _uploadedAtLastTick);
        _uploadedAtLastTick = uploadedNow;
    }

    /// <summary>Once a tick: the time since the last tick counts as seeding when <paramref name="seeding"/>.</summary>
    public void CountSeeding(bool seeding, DateTimeOffset now)
    {
        if (seeding && _lastSeedTickAt != default)
            Interlocked.Add(ref _seedMilliseconds, (long)(now - _lastSeedTickAt).TotalMilliseconds);
        _lastSeedTickAt = now;
    }
}
