using TorrentEdge.Engine.Choking;
using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// Super-seeding (BEP 16) for one torrent, through <see cref="SuperSeeder{TPeer}"/>: while the torrent is complete and
/// <see cref="AddTorrentOptions.SuperSeed"/> is set, a peer that connects gets no bitfield (HAVE_NONE with the
/// Fast extension) but one HAVE for the rarest piece not yet handed to someone else; when it reports having
/// that piece it is offered the next. It may request only pieces it was offered. Peers that connected before
/// the torrent was complete keep the ordinary treatment. Loop only.
/// </summary>
internal sealed class SuperSeeding(bool enabled, Random random)
{
    private SuperSeeder<PeerSession>? _superSeeder;
    private readonly List<(PeerSession Peer, int Piece)> _advertise = [];

    /// <summary>Whether super-seeding is on for this torrent (<see cref="AddTorrentOptions.SuperSeed"/>).</summary>
    public bool Enabled => enabled;

    // One piece would be offered as the whole torrent at once: nothing to gain, and see OfferLastPieceEarly.
    private bool IsActive(int pieceCount, BitField? have) => enabled && pieceCount > 1 && have is { AllTrue: true };

    /// <summary>On a new connection: true when super-seeding took over what we advertise to it.</summary>
    public bool TryStart(PeerSession peer, int pieceCount, BitField? have)
    {
        if (!IsActive(pieceCount, have)) return false;
        _superSeeder ??= new SuperSeeder<PeerSession>(pieceCount, random: random);
        peer.SuperSeeded = true;
        if (peer.SupportsFast) peer.Send(PeerMessage.HaveNone);
        Offer(peer, _superSeeder.PeerConnected(peer), pieceCount);
        return true;
    }

    private static void Offer(PeerSession peer, int piece, int pieceCount)
    {
        if (piece < 0 || peer.IsClosed) return;
        peer.OfferedPieces ??= new BitField(pieceCount);
        peer.OfferedPieces[piece] = true;
        peer.Send(PeerMessage.Have(piece));
    }

    /// <summary>A super-seeded peer has a new piece: it (or the peer whose piece just spread) may get the next offer.</summary>
    public void OnHave(PeerSession peer, int piece, int pieceCount)
    {
        if (!peer.SuperSeeded || _superSeeder is null) return;
        _superSeeder.OnHave(peer, piece, _advertise);
        foreach (var (p, next) in _advertise) Offer(p, next, pieceCount);
        _advertise.Clear();
    }

    public void OnBitfield(PeerSession peer, BitField has)
    {
        // A seed needs nothing from us; walking all its pieces would only cost time.
        if (!peer.SuperSeeded || has.AllTrue) return;
        for (var i = has.NextSet(0); i >= 0; i = has.NextSet(i + 1)) OnHave(peer, i, has.Length);
    }

    public void PeerClosed(PeerSession peer)
    {
        if (peer.SuperSeeded) _superSeeder?.PeerDisconnected(peer);
    }

    /// <summary>
    /// libtorrent drops a peer that turns out to be a seed while it is not interested in it (its
    /// close_redundant_connections), and a plain offer of a peer's last missing piece looks exactly like that: the
    /// peer finished the previous piece, lost interest, then sees every piece. So the last piece is offered while
    /// the peer still fetches the one before, when it is interested. O(1) per request until then.
    /// </summary>
    public static void OfferLastPieceEarly(PeerSession peer, int requestedPiece)
    {
        if (!peer.SuperSeeded || peer.LastPieceOffered || peer.PeerHave is not { } has || has.TrueCount != has.Length - 2 || has[requestedPiece]) return;
        for (var p = has.NextClear(0); p >= 0; p = has.NextClear(p + 1))
        {
            if (p == requestedPiece) continue;
            peer.LastPieceOffered = true;
            if (peer.OfferedPieces?[p] != true) Offer(peer, p, has.Length);
            return;
        }
    }

    /// <summary>A super-seeded peer may only fetch what it was offered.</summary>
    public static bool MayRequest(PeerSession peer, int piece) =>
        !peer.SuperSeeded || (peer.OfferedPieces is { } offered && offered[piece]);
}
