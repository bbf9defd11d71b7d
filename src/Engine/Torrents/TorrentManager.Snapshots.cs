namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// Read-only views for status pages, refreshed by the loop once a tick and swapped atomically, so readers on other
/// threads take no lock and never see the loop's own (mutable) peer sessions or bitfield.
/// </summary>
public sealed partial class TorrentManager
{
    private IReadOnlyList<PeerInfo> _peerInfos = [];
    private byte[]? _pieceBitfield;
    private int _pieceBitfieldCount = -1;
    private int _pieceBitfieldTicks;

    /// <summary>The connected peers as of the last tick (empty while none are connected).</summary>
    public IReadOnlyList<PeerInfo> PeerInfos => Volatile.Read(ref _peerInfos);

    /// <summary>
    /// The pieces this torrent has as a BitTorrent bitfield (piece 0 in the high bit of byte 0), as of the last tick;
    /// null until the metadata and the first check are done. A new array whenever it changes; never written after.
    /// </summary>
    public byte[]? PieceBitfield => Volatile.Read(ref _pieceBitfield);

    private void RefreshSnapshots()
    {
        if (_peers.Count > 0 || _peerInfos.Count > 0)
        {
            var pieceCount = Metainfo?.PieceCount ?? 0;
            var infos = new PeerInfo[_peers.Count];
            for (var i = 0; i < infos.Length; i++)
            {
                var p = _peers[i];
                var has = p.PeerHasAll ? pieceCount : p.PeerHave?.TrueCount ?? 0;
                infos[i] = new PeerInfo(
                    p.EndPoint, PeerClients.Describe(p.PeerId, p.ClientVersion), p.Source, p.IsIncoming,
                    Encrypted: p.Connection.IsEncrypted,
                    pieceCount > 0 ? (double)has / pieceCount : 0, p.DownloadRate, p.UploadRate, p.Downloaded, p.Uploaded,
                    p.PeerChoking, p.AmChoking, p.PeerInterested, p.AmInterested, p.Snubbed);
            }
            Volatile.Write(ref _peerInfos, infos);
        }
        // A copy only when the count moved (a piece verified or a recheck) or, to catch a recheck that kept the count, now
        // and then: a big torrent's bitfield is kilobytes.
        if (_pieces.Have is { } have && (have.TrueCount != _pieceBitfieldCount || ++_pieceBitfieldTicks >= 30))
        {
            _pieceBitfieldTicks = 0;
            _pieceBitfieldCount = have.TrueCount;
            Volatile.Write(ref _pieceBitfield, have.Bytes.ToArray());
        }
    }
}
