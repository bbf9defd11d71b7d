using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// What a torrent tells the world, as immutable snapshots swapped atomically (readers on other threads take no lock and
/// never see the loop's mutable sessions or bitfield): its <see cref="TorrentStatus"/>, the connected peers and the
/// pieces it has (refreshed once a tick), and the batched events built from them (pieces verified, progress at most once
/// a second). The loop writes; anyone reads.
/// </summary>
internal sealed class TorrentReports(TorrentStatus initial)
{
    private TorrentStatus _status = initial;
    private IReadOnlyList<PeerInfo> _peerInfos = [];
    private byte[]? _pieceBitfield;
    private int _pieceBitfieldCount = -1;
    private int _pieceBitfieldTicks;
    private readonly List<int> _verifiedBatch = [];
    private DateTimeOffset _lastProgressEvent;
    private bool _dirty;

    /// <summary>The latest status (any thread).</summary>
    public TorrentStatus Status => Volatile.Read(ref _status);

    /// <summary>The connected peers as of the last tick (any thread).</summary>
    public IReadOnlyList<PeerInfo> PeerInfos => Volatile.Read(ref _peerInfos);

    /// <summary>The pieces the torrent has as a BitTorrent bitfield as of the last tick (any thread); never written after.</summary>
    public byte[]? PieceBitfield => Volatile.Read(ref _pieceBitfield);

    public void Publish(TorrentStatus status) => Volatile.Write(ref _status, status);

    /// <summary>
    /// Something in the status changed (a peer came or went): one snapshot per batch, not one per peer (each snapshot
    /// walks every peer, so per-peer snapshots cost O(peers²) over a burst).
    /// </summary>
    public void MarkDirty() => _dirty = true;

    /// <summary>Whether a snapshot is due after this batch; clears the mark.</summary>
    public bool TakeDirty()
    {
        if (!_dirty) return false;
        _dirty = false;
        return true;
    }

    /// <summary>A verified piece, reported with the others of this second.</summary>
    public void PieceVerified(int index) => _verifiedBatch.Add(index);

    /// <summary>Once a tick: the peers and the pieces as read-only copies.</summary>
    public void Refresh(List<PeerSession> peers, int pieceCount, BitField? have)
    {
        if (peers.Count > 0 || _peerInfos.Count > 0)
        {
            var infos = new PeerInfo[peers.Count];
            for (var i = 0; i < infos.Length; i++)
            {
                var p = peers[i];
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
        if (have is not null && (have.TrueCount != _pieceBitfieldCount || ++_pieceBitfieldTicks >= 30))
        {
            _pieceBitfieldTicks = 0;
            _pieceBitfieldCount = have.TrueCount;
            Volatile.Write(ref _pieceBitfield, have.Bytes.ToArray());
        }
    }

    /// <summary>
    /// Once a tick: the pieces verified since the last one, and progress at most once a second while
    /// <paramref name="reportsProgress"/> (an idle seed has nothing new to say every second).
    /// </summary>
    public void EmitEvents(ITorrentHost host, InfoHash infoHash, DateTimeOffset now, bool reportsProgress, bool idleSeed)
    {
        if (_verifiedBatch.Count > 0)
        {
            host.Emit(new PiecesVerifiedEvent(infoHash, now, _verifiedBatch.ToArray()));
            _verifiedBatch.Clear();
        }
        if (reportsProgress && !idleSeed && now - _lastProgressEvent >= TimeSpan.FromSeconds(1))
        {
            _lastProgressEvent = now;
            host.Emit(new ProgressEvent(infoHash, now, Status));
        }
    }
}
