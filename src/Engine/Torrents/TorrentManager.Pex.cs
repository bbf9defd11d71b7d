using System.Net;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// Peer exchange (BEP 11, ut_pex) in both directions, through <see cref="PexMessage"/> and <see cref="PeerExchange{TPeer}"/>.
/// A private torrent (BEP 27) neither advertises ut_pex nor sends or takes PEX; a magnet is not known to be private until
/// its metadata arrives, so the check is made at every use, not once.
/// </summary>
public sealed partial class TorrentManager
{
    /// <summary>Our id for ut_pex messages sent to us (libtorrent's choice too).</summary>
    private const byte LocalUtPexId = 1;
    private PeerExchange<PeerSession>? _peerExchange;
    private readonly List<PexPeer> _pexConnected = [];

    private PeerExchange<PeerSession> Pex => _peerExchange ??= new PeerExchange<PeerSession>(Host.TimeProvider);

    private bool PexAllowed => PeerSourcePolicy.Allows(Metainfo, PeerSources.Pex);

    private void OnUtPex(PeerSession peer, byte[] payload)
    {
        // Private (we never advertised ut_pex, or the metadata just said so): whatever it says is not for us.
        if (!PexAllowed) return;
        if (!PexMessage.TryParse(payload, out var message))
        {
            ProtocolError(peer);
            return;
        }
        if (!Pex.MayReceive(peer)) return;
        // At most 50 + 50 addresses (the codec's cap), and each goes through the roster's filter, cap and bans.
        foreach (var added in message!.Added) AddCandidate(added.EndPoint, PeerSource.Pex);
    }

    /// <summary>Each tick: every ut_pex peer whose minute is over hears what changed among the peers we are connected to.</summary>
    private void SendPex()
    {
        if (!PexAllowed || _peers.Count == 0) return;
        _pexConnected.Clear();
        foreach (var p in _peers)
        {
            if (p.IsClosed || ListenEndPoint(p) is not { } ep) continue;
            var flags = PexFlags.None;
            if (!p.IsIncoming) flags |= PexFlags.Reachable;
            if (p.PeerHasAll || p.PeerHave is { AllTrue: true }) flags |= PexFlags.Seed;
            if (p.Connection.IsEncrypted) flags |= PexFlags.PrefersEncryption;
            _pexConnected.Add(new PexPeer(ep, flags));
        }
        foreach (var p in _peers)
        {
            if (p.RemoteUtPexId == 0 || p.IsClosed) continue;
            if (Pex.NextMessage(p, ListenEndPoint(p), _pexConnected) is not { } message) continue;
            p.Send(PeerMessage.Extended(p.RemoteUtPexId, message.Encode()));
        }
    }

    /// <summary>
    /// Where a peer takes connections: the address we dialled, or for a peer that dialled us its address with the
    /// listen port from its extension handshake ("p"); unknown (null) otherwise, and then it is not passed on.
    /// </summary>
    private static IPEndPoint? ListenEndPoint(PeerSession p) =>
        !p.IsIncoming ? p.EndPoint : p.EndPoint is { } ep && p.RemoteListenPort > 0 ? new IPEndPoint(ep.Address, p.RemoteListenPort) : null;
}
