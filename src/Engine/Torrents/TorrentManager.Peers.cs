using System.Net;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Throttling;

namespace TorrentEdge.Engine.Torrents;

public sealed partial class TorrentManager
{
    private bool IsTransferring => _lifecycle.IsTransferring;

    // ---- what a session sees of its torrent (IPeerSessionOwner): called from the sessions' tasks, never the loop's state ----

    TimeProvider IPeerSessionOwner.TimeProvider => Host.TimeProvider;
    EngineMetrics IPeerSessionOwner.Metrics => Host.Metrics;
    FrameLimits IPeerSessionOwner.FrameLimits => FrameLimits;
    LoopQueue IPeerSessionOwner.Queue => Queue;
    BandwidthLimiter IPeerSessionOwner.DownloadLimiter => DownloadLimiter;
    BandwidthLimiter IPeerSessionOwner.UploadLimiter => UploadLimiter;
    IPieceStore? IPeerSessionOwner.Storage => Storage;
    ActivePiece? IPeerSessionOwner.GetActivePiece(int index) => GetActivePiece(index);
    bool IPeerSessionOwner.Post(in LoopItem item) => Post(item);
    bool IPeerSessionOwner.Post(TorrentMessage message) => Post(message);
    void IPeerSessionOwner.ReleaseHalfOpen() => Host.ReleaseHalfOpen();

    // ---- candidates and connections ----

    /// <summary>Every peer source ends here (through <see cref="PeersFoundMessage"/>): the roster filters and caps, then we dial.</summary>
    private void AddCandidate(IPEndPoint endPoint, PeerSource source)
    {
        if (_roster.AddCandidate(endPoint, Host.ListenEndPoint, source) && IsTransferring) ConnectToCandidates();
    }

    private void ConnectToCandidates()
    {
        if (!IsTransferring || _disposed) return;
        if (!_lifecycle.DialsPeers(Host.Options.SeedsDialPeers)) return;
        foreach (var c in _roster.Dialable())
        {
            if (_roster.IsFull) break;
            // Checked again per dial: the dials started in this pass count against the address too.
            if (_roster.AddressFull(c.EndPoint)) continue;
            if (!Host.TryReserveHalfOpen())
            {
                Host.DialsDeferred();
                break;
            }
            if (!Host.TryReserveConnection())
            {
                Host.ReleaseHalfOpen();
                break;
            }
            var connection = TorrentEdge.Engine.Encryption.PeerConnections.Dial(Host.ConnectionFactory, c.EndPoint, InfoHash, Encryption);
            var session = new PeerSession(this, connection, _stopping.Token) { HoldsHalfOpenSlot = true, Source = c.Source };
            _roster.Dialling(c, session);
            Track(session.RunAsync(null, null, OurHandshake()));
        }
    }

    /// <summary>A half-open slot came free somewhere in the engine: dial now rather than on the next tick (any thread).</summary>
    internal void NudgeDials()
    {
        if (!_disposed) Post(new CommandMessage(t => t.ConnectToCandidates()));
    }

    internal Handshake OurHandshake() => new(ReservedBits.Default, InfoHash.ToArray(), Host.PeerId);

    /// <summary>An incoming connection whose handshake named this torrent (called by the engine's listener).</summary>
    internal void AcceptIncoming(IPeerConnection connection, PeerWireReader reader, Handshake theirs)
    {
        Post(new CommandMessage(t => t.DoAcceptIncoming(connection, reader, theirs)));
    }

    private void DoAcceptIncoming(IPeerConnection connection, PeerWireReader reader, Handshake theirs)
    {
        var ep = connection.RemoteEndPoint as IPEndPoint;
        if (!IsTransferring || !_roster.MayOpen(ep, theirs.PeerId) || !Host.TryReserveConnection())
        {
            _ = CloseQuietlyAsync(connection, reader);
            return;
        }
        var session = new PeerSession(this, connection, _stopping.Token);
        _pending.Add(session);
        // Started on the thread pool: the handshake send and the session's start-up would otherwise run on
        // this loop, and a burst of incoming peers would queue behind each other there.
        Track(Task.Run(() => RunIncomingAsync(session, reader, theirs)));
    }

    private async Task RunIncomingAsync(PeerSession session, PeerWireReader reader, Handshake theirs)
    {
        try
        {
            await session.RunAsync(reader, theirs, OurHandshake()).ConfigureAwait(false);
        }
        finally
        {
            await reader.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static async Task CloseQuietlyAsync(IPeerConnection connection, PeerWireReader reader)
    {
        await reader.DisposeAsync().ConfigureAwait(false);
        await connection.DisposeAsync().ConfigureAwait(false);
    }

    // ---- peer messages ----

    /// <summary>Connect and close are the torrent's (roster, extensions); extended messages go to metadata and PEX; the rest of the wire to the block exchange.</summary>
    private void HandlePeerEvent(in PeerEvent work)
    {
        var peer = work.Peer;
        if (work.Kind == PeerEventKind.Closed) { OnPeerClosed(peer); return; }
        if (work.Kind == PeerEventKind.Connected) { OnPeerConnected(peer); return; }
        if (!peer.Registered) return;
        if (work.Kind == PeerEventKind.Extended) OnExtended(peer, work.Index, work.Payload!);
        else _exchange.Handle(work);
    }

    private void OnPeerConnected(PeerSession peer)
    {
        if (peer.IsClosed || !IsTransferring)
        {
            _pending.Remove(peer);
            peer.Close();
            return;
        }
        // Checked here too, so a banned address is refused whichever side dialled.
        if (!_roster.TryRegister(peer, Host.PeerId, out var replaced))
        {
            peer.Close();
            return;
        }
        if (replaced is not null)
        {
            // Retired here, while the roster and the exchange agree; its Closed event later finds it unregistered.
            replaced.Registered = false;
            _exchange.PeerClosed(replaced);
            _peerExchange?.Forget(replaced);
            replaced.Close();
        }
        peer.Registered = true;
        peer.ConnectedAt = Host.TimeProvider.GetUtcNow();
        _exchange.PeerRegistered(peer);
        if (peer.SupportsExtensionProtocol) SendExtensionHandshake(peer);
        _exchange.Advertise(peer);
        _reports.MarkDirty();
    }

    private void OnPeerClosed(PeerSession peer)
    {
        Host.ReleaseConnection();
        _stats.PeerClosed(peer);
        _roster.Closed(peer, peer.Registered);
        if (!peer.Registered) return;
        peer.Registered = false;
        _exchange.PeerClosed(peer);
        _peerExchange?.Forget(peer);
        _reports.MarkDirty();
    }

    /// <summary>Holds <paramref name="offence"/> against the peer's address; three strikes ban it (and its peer id).</summary>
    void IBlockExchangeOwner.Strike(PeerSession peer, StrikeReason offence) => Strike(peer, offence);

    private void Strike(PeerSession peer, StrikeReason offence)
    {
        if (peer.EndPoint is not { } endPoint || !_roster.Strike(endPoint, peer.PeerId, out var n)) return;
        Host.Emit(new PeerBannedEvent(InfoHash, Now, peer.Name, $"{n} strikes, the last: {Describe(offence)}"));
        peer.Close();
    }

    private static string Describe(StrikeReason offence) => offence switch
    {
        StrikeReason.PieceHashFailed => "a piece failed the hash check",
        StrikeReason.MetadataHashFailed => "metadata failed the info-hash check",
        _ => "a block it was not asked for",
    };

    // ---- periodic work ----

    private void OnTick()
    {
        _ticks++;
        _stats.Tick(_peers);
        _exchange.Tick();
        if (_ticks % 5 == 0) ConnectToCandidates();
        // Starved of peers: ask the trackers again as soon as their min interval allows.
        if (_peers.Count == 0 && _lifecycle.WantsPeers) _announcer?.RequestAnnounce();
        AnnounceIfDue();
        if (_ticks % 2 == 0 && Metainfo is null) RequestMetadata(tick: true);
        SendPex();
        if (_resumeSchedule.IsDue) SaveResume();
        _reports.Refresh(_peers, Metainfo?.PieceCount ?? 0, _pieces.Have);
        PublishStatus();
        TrackSeeding();
        EmitProgress();
    }

    private void EmitProgress()
    {
        _reports.EmitEvents(Host, InfoHash, Now, _lifecycle.ReportsProgress, idleSeed: _lifecycle.IsSeeding && _stats.UploadRate == 0);
    }

    /// <summary>After a batch of work: top up the request pipelines of peers whose state changed.</summary>
    private void AfterBatch()
    {
        if (_reports.TakeDirty()) PublishStatus();
        _exchange.TopUp();
    }
}
