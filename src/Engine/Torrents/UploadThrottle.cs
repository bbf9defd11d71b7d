namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// A token bucket for upload bytes shared by all sessions, bursting up to one second of rate.
/// Unlimited (rate 0) costs nothing.
/// </summary>
internal sealed class UploadThrottle(long bytesPerSecond, TimeProvider time)
{
    private readonly Lock _gate = new();
    private double _tokens = bytesPerSecond;
    private long _last = time.GetTimestamp();

    public async ValueTask WaitAsync(int bytes, CancellationToken cancellationToken)
    {
        if (bytesPerSecond <= 0) return;
        while (true)
        {
            TimeSpan wait;
            lock (_gate)
            {
                var now = time.GetTimestamp();
                _tokens = Math.Min(bytesPerSecond, _tokens + time.GetElapsedTime(_last, now).TotalSeconds * bytesPerSecond);
                _last = now;
                if (_tokens >= bytes)
                {
                    _tokens -= bytes;
                    return;
                }
                wait = TimeSpan.FromSeconds((bytes - _tokens) / bytesPerSecond);
            }
            await Task.Delay(wait, time, cancellationToken).ConfigureAwait(false);
        }
    }
}
