namespace TorrentEdge.Engine.PiecePicking;

/// <summary>Settings for <see cref="RequestQueueDepth"/>.</summary>
public sealed record RequestQueueDepthOptions
{
    public static RequestQueueDepthOptions Default { get; } = new();

    public int MinDepth { get; init; } = 2;

    /// <summary>Upper bound; also what most clients accept (libtorrent's default reqq is 500, many use 250).</summary>
    public int MaxDepth { get; init; } = 250;

    /// <summary>Depth before anything was measured.</summary>
    public int InitialDepth { get; init; } = 4;

    public int BlockLength { get; init; } = Protocol.BlockRequest.StandardBlockLength;

    /// <summary>How much more than the bandwidth-delay product to keep outstanding, so the pipe stays full and the depth can grow.</summary>
    public double Gain { get; init; } = 2.0;

    /// <summary>Rate is measured over windows of this length and smoothed.</summary>
    public TimeSpan RateWindow { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Keep at least this much of the measured rate outstanding (libtorrent's request_queue_time idea). On loopback
    /// and LANs the round trip is far shorter than the time a peer takes to serve a batch, so the bandwidth-delay
    /// product alone would starve a fast peer; zero leaves only the product.
    /// </summary>
    public TimeSpan MinQueueTime { get; init; }

    /// <summary>
    /// Until the first rate window closes, each block received adds one to the depth (TCP's slow start: the depth doubles
    /// every round trip), instead of holding <see cref="InitialDepth"/> for a whole window. On loopback a fast seeder
    /// otherwise spends the first second of a transfer capped at InitialDepth blocks per round trip.
    /// </summary>
    public bool SlowStart { get; init; }

    /// <summary>The minimum latency is forgotten after this long, so a route change is noticed.</summary>
    public TimeSpan MinLatencyLifetime { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// How many block requests to keep outstanding to one peer: its bandwidth-delay product in blocks
/// (rate × latency / block length), times a gain, clamped. Latency is the minimum observed request-to-block
/// time rather than the average, because the average includes our own queue at the peer and would make the
/// depth feed on itself. One per peer, updated by the torrent's loop; time comes from a <see cref="TimeProvider"/>.
/// </summary>
public sealed class RequestQueueDepth
{
    private readonly TimeProvider _time;
    private readonly RequestQueueDepthOptions _options;
    private long _windowStart;
    private long _windowBytes;
    private long _minLatencySetAt;
    private bool _rateKnown;

    public RequestQueueDepth(TimeProvider? time = null, RequestQueueDepthOptions? options = null)
    {
        _time = time ?? TimeProvider.System;
        _options = options ?? RequestQueueDepthOptions.Default;
        _windowStart = _time.GetTimestamp();
        Depth = Math.Clamp(_options.InitialDepth, _options.MinDepth, _options.MaxDepth);
    }

    /// <summary>Target number of outstanding requests.</summary>
    public int Depth { get; private set; }

    /// <summary>Smoothed download rate from this peer, bytes per second.</summary>
    public double BytesPerSecond { get; private set; }

    /// <summary>Lowest recent request-to-block time (zero until measured).</summary>
    public TimeSpan MinLatency { get; private set; }

    /// <summary>Pure form: rate × latency / block length, rounded up and clamped.</summary>
    public static int Compute(double bytesPerSecond, TimeSpan latency, int blockLength, int minDepth, int maxDepth)
    {
        var blocks = bytesPerSecond * latency.TotalSeconds / blockLength;
        if (double.IsNaN(blocks) || blocks <= minDepth) return minDepth;
        return blocks >= maxDepth ? maxDepth : Math.Clamp((int)Math.Ceiling(blocks), minDepth, maxDepth);
    }

    /// <summary>A block arrived <paramref name="latency"/> after we requested it.</summary>
    public void BlockReceived(int bytes, TimeSpan latency)
    {
        var now = _time.GetTimestamp();
        if (latency > TimeSpan.Zero && (MinLatency == TimeSpan.Zero || latency < MinLatency || _time.GetElapsedTime(_minLatencySetAt, now) > _options.MinLatencyLifetime))
        {
            MinLatency = latency;
            _minLatencySetAt = now;
        }
        _windowBytes += bytes;
        if (_options.SlowStart && !_rateKnown && Depth < _options.MaxDepth) Depth++;
        Update(now);
    }

    /// <summary>Closes a rate window if one has elapsed (call periodically so an idle peer's rate decays).</summary>
    public void Tick() => Update(_time.GetTimestamp());

    private void Update(long now)
    {
        var elapsed = _time.GetElapsedTime(_windowStart, now);
        if (elapsed < _options.RateWindow) return;
        var sample = _windowBytes / elapsed.TotalSeconds;
        // Fast to rise (the first window counts fully), smoothed afterwards so one slow window does not collapse the depth.
        BytesPerSecond = _rateKnown ? BytesPerSecond * 0.5 + sample * 0.5 : sample;
        _rateKnown = true;
        _windowBytes = 0;
        _windowStart = now;
        if (MinLatency > TimeSpan.Zero)
            Depth = Compute(BytesPerSecond * _options.Gain, MinLatency, _options.BlockLength, _options.MinDepth, _options.MaxDepth);
        if (_options.MinQueueTime > TimeSpan.Zero)
            Depth = Math.Max(MinLatency > TimeSpan.Zero ? Depth : _options.MinDepth,
                Compute(BytesPerSecond, _options.MinQueueTime, _options.BlockLength, _options.MinDepth, _options.MaxDepth));
    }
}
