namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// Read-only views for status pages (<see cref="TorrentReports"/>), refreshed by the loop once a tick and swapped
/// atomically, so readers on other threads take no lock and never see the loop's own (mutable) peer sessions or bitfield.
/// </summary>
public sealed partial class TorrentManager
{
    /// <summary>The connected peers as of the last tick (empty while none are connected).</summary>
    public IReadOnlyList<PeerInfo> PeerInfos => _reports.PeerInfos;

    /// <summary>
    /// The pieces this torrent has as a BitTorrent bitfield (piece 0 in the high bit of byte 0), as of the last tick;
    /// null until the metadata and the first check are done. A new array whenever it changes; never written after.
    /// </summary>
    public byte[]? PieceBitfield => _reports.PieceBitfield;
}
