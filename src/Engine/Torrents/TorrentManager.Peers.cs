using System.Net;
using TorrentEdge.Engine.Choking;
using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.PiecePicking;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Torrents;

public sealed partial class TorrentManager
{
    private const int MaxUnchoked = 4;
    private static readonly TimeSpan SnubAfter = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan IdleDisconnect = TimeSpan.FromMinutes(3);
    private readonly HashSet<PeerSession> _needRequests = [];
    private bool _statusDirty;
    private Choker? _choker;

    /// <summary>Tit-for-tat on the engine clock, so rechoke and optimistic rotation follow the injected time.</summary>
    private Choker Choker => _choker ??= new Choker(ChokerOptions.Default, Host.TimeProvider, _random);

    private bool IsTransferring => !_seedLimitReached &&
        _state is TorrentState.Downloading or TorrentState.Seeding or TorrentState.Finished or TorrentState.FetchingMetadata;

    // ---- candidates and connections ----

    /// <summary>Every peer source ends here (through <see cref="PeersFoundMessage"/>): the roster filters and caps, then we dial.</summary>
    private void AddCandidate(IPEndPoint endPoint, PeerSource source)
    {
        if (_roster.AddCandidate(endPoint, Host.ListenEndPoint, source) && IsTransferring) ConnectToCandidates();
    }

    private void ConnectToCandidates()
    {
        if (!IsTransferring || _disposed) return;
        if (_state is TorrentState.Finished or TorrentState.Seeding && !Host.Options.SeedsDialPeers) return;
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

    private void HandlePeerEvent(in PeerEvent work)
    {
        var peer = work.Peer;
        if (work.Kind == PeerEventKind.Closed) { OnPeerClosed(peer); return; }
        if (work.Kind == PeerEventKind.Connected) { OnPeerConnected(peer); return; }
        if (!peer.Registered) return;
        switch (work.Kind)
        {
            case PeerEventKind.BlockReceived:
                OnBlockReceived(peer, work);
                _needRequests.Add(peer);
                break;
            case PeerEventKind.BlockDropped:
                OnBlockDropped(peer, work);
                break;
            case PeerEventKind.BlockUnrequested:
                // Data nobody asked this peer for (dropped unread): a broken or hostile peer. A strike, so one that
                // keeps coming back is banned, and the connection goes. One strike per connection: more of its flood may
                // be queued already when the first closes it, and a single connection must not ban its address.
                if (peer.IsClosed) break;
                Strike(peer, StrikeReason.UnrequestedBlock);
                ProtocolError(peer);
                break;
            case PeerEventKind.Choke:
                peer.PeerChoking = true;
                ReleaseRequests(peer);
                break;
            case PeerEventKind.Unchoke:
                peer.PeerChoking = false;
                _needRequests.Add(peer);
                break;
            case PeerEventKind.Interested:
                peer.PeerInterested = true;
                if (peer.AmChoking && UnchokedCount() < MaxUnchoked + 1) Unchoke(peer);
                break;
            case PeerEventKind.NotInterested:
                peer.PeerInterested = false;
                break;
            case PeerEventKind.Have:
                OnHave(peer, work.Index);
                break;
            case PeerEventKind.Bitfield:
                OnBitfield(peer, work.Payload!);
                break;
            case PeerEventKind.HaveAll:
                OnHaveAll(peer);
                break;
            case PeerEventKind.HaveNone:
                EnsurePeerHave(peer);
                UpdateInterest(peer);
                break;
            case PeerEventKind.Request:
                OnRequest(peer, new BlockRequest(work.Index, work.Begin, work.Length));
                break;
            case PeerEventKind.Cancel:
                peer.CancelUpload(new BlockRequest(work.Index, work.Begin, work.Length));
                break;
            case PeerEventKind.Reject:
                // The same as a block that never comes: back to the picker (BEP 6).
                OnBlockDropped(peer, work);
                break;
            case PeerEventKind.AllowedFast:
                if ((Metainfo is null || (uint)work.Index < (uint)Metainfo.PieceCount) &&
                    peer.AllowedFastFromPeer.Count < PeerSession.MaxAllowedFast && !peer.AllowedFastFromPeer.Contains(work.Index))
                    peer.AllowedFastFromPeer.Add(work.Index);
                _needRequests.Add(peer);
                break;
            case PeerEventKind.Suggest:
                OnSuggest(peer, work.Index);
                break;
            case PeerEventKind.Extended:
                OnExtended(peer, work.Index, work.Payload!);
                break;
        }
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
        if (!_roster.TryRegister(peer))
        {
            peer.Close();
            return;
        }
        peer.Registered = true;
        peer.ConnectedAt = Host.TimeProvider.GetUtcNow();
        peer.QueueDepth = new RequestQueueDepth(Host.TimeProvider, QueueDepthOptions);
        EnsurePeerHave(peer);
        if (peer.SupportsExtensionProtocol) SendExtensionHandshake(peer);
        if (TryStartSuperSeeding(peer))
        {
            // Advertised one piece at a time instead of a bitfield.
        }
        else if (_pieces.Have is { } have)
        {
            if (peer.SupportsFast && have.AllTrue) peer.Send(PeerMessage.HaveAll);
            else if (peer.SupportsFast && have.AllFalse) peer.Send(PeerMessage.HaveNone);
            else if (!have.AllFalse) peer.Send(PeerMessage.Bitfield(have.Bytes.ToArray()));
        }
        else if (peer.SupportsFast)
        {
            peer.Send(PeerMessage.HaveNone);
        }
        GrantAllowedFast(peer);
        _statusDirty = true;
    }

    /// <summary>
    /// BEP 6: a Fast peer gets its canonical allowed-fast set (from its /24 and the info-hash, so every client
    /// computes the same one), pieces it may fetch from us while choked, to get started before its first unchoke.
    /// Only when the set is a small part of the torrent, else it would be a way to download it without trading.
    /// </summary>
    private void GrantAllowedFast(PeerSession peer)
    {
        if (!peer.SupportsFast || Metainfo is not { } m || peer.EndPoint is not { } ep) return;
        if (m.PieceCount < AllowedFastMinPieces) return;
        Span<int> set = stackalloc int[AllowedFastSet.DefaultCount];
        var n = AllowedFastSet.Generate(InfoHash.ToArray(), ep.Address, m.PieceCount, set);
        if (n == 0) return;
        peer.AllowedFastToPeer = set[..n].ToArray();
        foreach (var piece in peer.AllowedFastToPeer) peer.Send(PeerMessage.AllowedFast(piece));
    }

    /// <summary>Torrents with fewer pieces grant no allowed-fast set (10 pieces would be too much of them).</summary>
    private const int AllowedFastMinPieces = 4 * AllowedFastSet.DefaultCount;

    private void OnSuggest(PeerSession peer, int index)
    {
        if (Metainfo is not { } m || (uint)index >= (uint)m.PieceCount) return;
        var list = peer.SuggestedByPeer;
        list.Remove(index);
        if (list.Count >= PeerSession.MaxSuggested) list.RemoveAt(list.Count - 1);
        list.Insert(0, index);
        _needRequests.Add(peer);
    }

    private void OnPeerClosed(PeerSession peer)
    {
        Host.ReleaseConnection();
        _uploadedClosed += peer.Uploaded;
        _roster.Closed(peer, peer.Registered);
        if (!peer.Registered) return;
        peer.Registered = false;
        _needRequests.Remove(peer);
        ReleaseRequests(peer);
        UncountAvailability(peer);
        SuperSeedPeerClosed(peer);
        _peerExchange?.Forget(peer);
        foreach (var p in _peers) _needRequests.Add(p);
        _statusDirty = true;
    }

    private void OnHave(PeerSession peer, int index)
    {
        if (Metainfo is null)
        {
            return;
        }
        if ((uint)index >= (uint)Metainfo.PieceCount) { peer.Close(); return; }
        EnsurePeerHave(peer);
        var has = peer.PeerHave!;
        if (has[index]) return;
        has[index] = true;
        if (peer.CountedAvailability) _picker?.Availability.Increment(index);
        else CountAvailability(peer);
        if (!peer.AmInterested && _pieces.Wanted[index] && !_pieces.Have![index]) UpdateInterest(peer);
        SuperSeedHave(peer, index);
        _needRequests.Add(peer);
    }

    private void OnBitfield(PeerSession peer, byte[] bytes)
    {
        if (Metainfo is null)
        {
            peer.PendingBitfield = bytes;
            return;
        }
        if (!BitField.TryFromBytes(bytes, Metainfo.PieceCount, out var bits)) { peer.Close(); return; }
        UncountAvailability(peer);
        peer.PeerHasAll = false;
        peer.PeerHave = bits;
        CountAvailability(peer);
        UpdateInterest(peer);
        SuperSeedBitfield(peer, bits!);
        _needRequests.Add(peer);
    }

    private void OnHaveAll(PeerSession peer)
    {
        UncountAvailability(peer);
        peer.PeerHasAll = true;
        peer.PeerHave = null;
        if (Metainfo is not null)
        {
            EnsurePeerHave(peer);
            CountAvailability(peer);
            UpdateInterest(peer);
            _needRequests.Add(peer);
        }
    }

    /// <summary>Once the metadata is known every peer has a bitfield (all set for have-all), which the picker reads.</summary>
    private void EnsurePeerHave(PeerSession peer)
    {
        if (peer.PeerHave is not null || Metainfo is null) return;
        peer.PeerHave = new BitField(Metainfo.PieceCount);
        if (peer.PeerHasAll) peer.PeerHave.SetAll(true);
    }

    /// <summary>Counts the peer's pieces in the picker's availability (a have-all peer as a seed, O(1)).</summary>
    private void CountAvailability(PeerSession peer)
    {
        if (_picker is not { } picker || peer.CountedAvailability || peer.PeerHave is not { } has) return;
        if (peer.PeerHasAll) picker.Availability.AddSeed();
        else picker.Availability.AddPeer(has);
        peer.CountedAvailability = true;
    }

    private void UncountAvailability(PeerSession peer)
    {
        if (_picker is not { } picker || !peer.CountedAvailability || peer.PeerHave is not { } has) return;
        if (peer.PeerHasAll) picker.Availability.RemoveSeed();
        else picker.Availability.RemovePeer(has);
        peer.CountedAvailability = false;
    }

    private void UpdateInterest(PeerSession peer)
    {
        var interested = _state == TorrentState.Downloading && _picker is { } picker && peer.PeerHave is not null && picker.IsInteresting(peer);
        if (interested == peer.AmInterested) return;
        peer.AmInterested = interested;
        peer.Send(interested ? PeerMessage.Interested : PeerMessage.NotInterested);
    }

    private void OnRequest(PeerSession peer, BlockRequest block)
    {
        var valid = Metainfo is not null && _pieces.Have is not null && (uint)block.PieceIndex < (uint)Metainfo.PieceCount &&
                    _pieces.Have[block.PieceIndex] && MayRequest(peer, block.PieceIndex) && block.Length is > 0 and <= BlockRequest.StandardBlockLength &&
                    block.Begin >= 0 && (long)block.Begin + block.Length <= Metainfo.GetPieceLength(block.PieceIndex);
        if (!valid || (peer.AmChoking && !peer.AllowedFastToPeer.AsSpan().Contains(block.PieceIndex)))
        {
            if (peer.SupportsFast) peer.Send(PeerMessage.RejectRequest(block));
            return;
        }
        if (!peer.EnqueueUpload(block))
        {
            if (peer.SupportsFast)
            {
                peer.Send(PeerMessage.RejectRequest(block));
            }
            else
            {
                // Without BEP 6 a dropped request is never answered and the peer waits for it until it gives up on
                // us. A choke tells it every request is gone (BEP 3); the unchoke straight after lets it ask again.
                Choke(peer);
                Unchoke(peer);
            }
            return;
        }
        OfferLastPieceEarly(peer, block.PieceIndex);
    }

    private void Unchoke(PeerSession peer)
    {
        if (!peer.AmChoking) return;
        peer.AmChoking = false;
        peer.UnchokedAtTicks = Host.TimeProvider.NowMilliseconds();
        peer.Send(PeerMessage.Unchoke);
    }

    private void Choke(PeerSession peer)
    {
        if (peer.AmChoking) return;
        peer.AmChoking = true;
        if (peer.SupportsFast)
        {
            // BEP 6: a choke no longer drops requests silently: allowed-fast ones are still served, the rest rejected.
            _rejected.Clear();
            peer.ClearUploads(peer.AllowedFastToPeer, _rejected);
            peer.Send(PeerMessage.Choke);
            foreach (var b in _rejected) peer.Send(PeerMessage.RejectRequest(b));
            _rejected.Clear();
            return;
        }
        peer.ClearUploads();
        peer.Send(PeerMessage.Choke);
    }

    private readonly List<BlockRequest> _rejected = [];

    /// <summary>
    /// Tit-for-tat (<see cref="Choking.Choker"/>): the interested peers that gave us most (or, seeding, took most)
    /// keep their slots, plus one optimistic unchoke that rotates; everyone else is choked.
    /// </summary>
    private void Rechoke()
    {
        var seeding = _state is TorrentState.Seeding or TorrentState.Finished;
        var decision = Choker.Rechoke(_peers, seeding);
        foreach (var p in _peers)
        {
            if (decision.ShouldUnchoke(p)) Unchoke(p);
            else Choke(p);
        }
    }

    private int UnchokedCount()
    {
        var n = 0;
        foreach (var p in _peers)
            if (!p.AmChoking) n++;
        return n;
    }

    /// <summary>Holds <paramref name="offence"/> against the peer's address; three strikes ban it (and its peer id).</summary>
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

    private enum StrikeReason
    {
        PieceHashFailed,
        MetadataHashFailed,
        UnrequestedBlock,
    }

    // ---- periodic work ----

    private void OnTick()
    {
        _ticks++;
        var now = Host.TimeProvider.NowMilliseconds();
        long uploadedNow = _uploadedBase + _uploadedClosed;
        foreach (var p in _peers)
        {
            p.DownloadRate = p.Downloaded - p.DownloadedAtLastTick;
            p.DownloadedAtLastTick = p.Downloaded;
            var up = p.Uploaded;
            p.UploadRate = up - p.UploadedAtLastTick;
            p.UploadedAtLastTick = up;
            uploadedNow += up;
            p.QueueDepth?.Tick();
            if (p.Outstanding.Count > 0 && !p.Snubbed && Host.TimeProvider.GetElapsedTime(p.LastBlockAt) > SnubAfter)
            {
                // Snubbed: its requests and pieces go back to the picker for others; it gets one block at a time.
                p.Snubbed = true;
                var n = p.Outstanding.Drain(_picked);
                for (var i = 0; i < n; i++) p.Send(PeerMessage.Cancel(_picked[i]));
                ReleaseRequests(p);
            }
            if (now - p.LastReceiveTicks > IdleDisconnect.TotalMilliseconds) p.Close();
            else if (now - p.LastSendTicks > 90_000) p.Send(PeerMessage.KeepAlive);
            _needRequests.Add(p);
        }
        _downloadRate = _downloaded - _downloadedAtLastTick;
        _downloadedAtLastTick = _downloaded;
        _uploadRate = Math.Max(0, uploadedNow - _uploadedAtLastTick);
        _uploadedAtLastTick = uploadedNow;
        if (Choker.IsRechokeDue && _peers.Count > 0) Rechoke();
        SweepActivePieces();
        if (_ticks % 5 == 0) ConnectToCandidates();
        // Starved of peers: ask the trackers again as soon as their min interval allows.
        if (_peers.Count == 0 && _state is TorrentState.Downloading or TorrentState.FetchingMetadata) _announcer?.RequestAnnounce();
        AnnounceIfDue();
        if (_ticks % 2 == 0 && Metainfo is null) RequestMetadata(tick: true);
        SendPex();
        if (_resumeSchedule.IsDue) SaveResume();
        RefreshSnapshots();
        PublishStatus();
        TrackSeeding();
        EmitProgress();
    }

    private void EmitProgress()
    {
        if (_verifiedBatch.Count > 0)
        {
            Host.Emit(new PiecesVerifiedEvent(InfoHash, Now, _verifiedBatch.ToArray()));
            _verifiedBatch.Clear();
        }
        // An idle seed has nothing new to say every second.
        var idleSeed = _state is TorrentState.Seeding or TorrentState.Finished && _uploadRate == 0;
        if (_state is TorrentState.Downloading or TorrentState.Seeding or TorrentState.Finished or TorrentState.FetchingMetadata &&
            !idleSeed && Now - _lastProgressEvent >= TimeSpan.FromSeconds(1))
        {
            _lastProgressEvent = Now;
            Host.Emit(new ProgressEvent(InfoHash, Now, Status));
        }
    }

    /// <summary>After a batch of work: top up the request pipelines of peers whose state changed.</summary>
    private void AfterBatch()
    {
        // Peer arrivals and departures come in bursts: one status snapshot per batch, not one per peer
        // (each snapshot walks every peer, so per-peer snapshots cost O(peers²) over a burst).
        if (_statusDirty)
        {
            _statusDirty = false;
            PublishStatus();
        }
        if (_needRequests.Count == 0) return;
        foreach (var p in _needRequests) RequestMore(p);
        _needRequests.Clear();
    }
}
