namespace TorrentEdge.Notifier.Live;

/// <summary>Per-connection limits of live delivery (section <c>Notifier:Live</c>).</summary>
public sealed class LiveOptions
{
    /// <summary>Events waiting for one connection (progress coalesced per torrent) before it is closed as too slow.</summary>
    public int BufferCapacity { get; set; } = 1024;
}
