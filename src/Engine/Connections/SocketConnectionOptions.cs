namespace TorrentEdge.Engine.Connections;

/// <summary>Socket settings for peer connections.</summary>
public sealed record SocketConnectionOptions
{
    public static SocketConnectionOptions Default { get; } = new();

    /// <summary>How long to wait for a TCP connect before giving up on a peer.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// SO_RCVBUF, or null for the OS default. Null is usually right on Linux: setting it turns off the kernel's
    /// receive-window auto-tuning, which otherwise grows buffers to the bandwidth-delay product.
    /// </summary>
    public int? ReceiveBufferSize { get; init; }

    /// <summary>SO_SNDBUF, or null for the OS default (auto-tuned on Linux).</summary>
    public int? SendBufferSize { get; init; }

    /// <summary>Requests, haves and chokes are tiny and latency-bound, so Nagle's delay only hurts.</summary>
    public bool NoDelay { get; init; } = true;
}
