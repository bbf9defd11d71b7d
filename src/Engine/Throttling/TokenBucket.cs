namespace TorrentEdge.Engine.Throttling;

/// <summary>
/// A token-bucket rate limit in bytes per second that lets a burst of up to one second of rate
/// through. A rate of 0 means unlimited. Thread-safe.
/// </summary>
/// <remarks>
/// <see cref="ConsumeAsync"/> reserves its tokens at once and then waits out any debt, so
/// concurrent waiters are served in the order they asked and a request larger than the bucket
/// still goes through at the configured rate.
/// </remarks>
public sealed class TokenBucket
{
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private long _rate;
    private double _tokens;
    private long _lastRefill;

    public TokenBucket(long bytesPerSecond, TimeProvider? timeProvider = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytesPerSecond);
        _time = timeProvider ?? TimeProvider.System;
        _rate = bytesPerSecond;
        _tokens = bytesPerSecond;
        _lastRefill = _time.GetTimestamp();
    }

    /// <summary>Bytes per second, 0 for unlimited. Lowering it trims saved-up tokens to the new burst.</summary>
    public long BytesPerSecond
    {
        get => Volatile.Read(ref _rate);
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            lock (_gate)
            {
                Refill();
                if (_rate == 0) _tokens = value; // leaving unlimited starts with a full bucket
                _rate = value;
                _tokens = Math.Min(_tokens, value);
            }
        }
    }

    public bool IsUnlimited => BytesPerSecond == 0;

    /// <summary>Tokens available now (negative while a reservation is being waited out).</summary>
    public double Available
    {
        get
        {
            lock (_gate)
            {
                Refill();
                return _rate == 0 ? double.PositiveInfinity : _tokens;
            }
        }
    }

    /// <summary>
    /// Takes <paramref name="bytes"/> tokens if they are there now. A request larger than the
    /// bucket succeeds when the bucket is full (it then runs into debt).
    /// </summary>
    public bool TryConsume(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (_gate)
        {
            if (_rate == 0) return true;
            Refill();
            if (_tokens < Math.Min(bytes, _rate)) return false;
            _tokens -= bytes;
            return true;
        }
    }

    /// <summary>Waits until <paramref name="bytes"/> may pass at the configured rate.</summary>
    public ValueTask ConsumeAsync(int bytes, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        TimeSpan wait;
        lock (_gate)
        {
            if (_rate == 0) return ValueTask.CompletedTask;
            Refill();
            _tokens -= bytes;
            if (_tokens >= 0) return ValueTask.CompletedTask;
            wait = TimeSpan.FromSeconds(-_tokens / _rate);
        }
        return WaitAsync(bytes, wait, cancellationToken);
    }

    /// <summary>Gives back tokens taken for bytes that were not sent after all.</summary>
    public void Refund(int bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        lock (_gate)
        {
            if (_rate == 0) return;
            Refill();
            _tokens = Math.Min(_tokens + bytes, _rate);
        }
    }

    private async ValueTask WaitAsync(int bytes, TimeSpan wait, CancellationToken cancellationToken)
    {
        try
        {
            // The reservation is ours once the debt ahead of it (and its own) has refilled; a rate
            // change meanwhile only affects later callers.
            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Refund(bytes);
            throw;
        }
    }

    // Called under _gate.
    private void Refill()
    {
        var now = _time.GetTimestamp();
        var elapsed = _time.GetElapsedTime(_lastRefill, now);
        _lastRefill = now;
        if (_rate == 0) return;
        _tokens = Math.Min(_rate, _tokens + elapsed.TotalSeconds * _rate);
    }
}
