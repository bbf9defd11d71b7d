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
    private const int StrikesToBan = 3;
    private static readonly TimeSpan BanTime = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan SnubAfter = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan IdleDisconnect = TimeSpan.FromMinutes(3);
    private readonly Dictionary<IPEndPoint, int> _strikes = [];
    private readonly HashSet<PeerSession> _needRequests = [];
    // Ids of the registered peers, so a second connection from the same peer is found without a scan.
    private readonly HashSet<PeerId> _peerIds = [];
    private bool _statusDirty;
    private Choker? _choker;

    /// <summary>Tit-for-tat on the engine clock, so rechoke and optimistic rotation follow the injected time.</summary>
    private Choker Choker => _choker ??= new Choker(ChokerOptions.Default, Engine.TimeProvider, _random);

    private bool IsTransferring => !_seedLimitReached &&
        _state is TorrentState.Downloading or TorrentState.Seeding or TorrentState.Finished or TorrentState.FetchingMetadata;

    // ---- candidates and connections ----

    private void AddCandidate(IPEndPoint endPoint, PeerSource source)
    {
        if (endPoint.Port == 0) return;
        if (Engine.ListenEndPoint is { } self && self.Port == endPoint.Port && (IPAddress.IsLoopback(endPoint.Address) || endPoint.Address.Equals(self.Address)))
            return; // ourselves, as a tracker reports us back
        _candidates.TryAdd(endPoint, source);
        if (IsTransferring) ConnectToCandidates();
    }

    private bool IsBanned(IPEndPoint? endPoint) =>
        endPoint is not null && _bannedUntil.TryGetValue(BanKey(endPoint), out var until) && until > Engine.TimeProvider.NowMilliseconds();

    /// <summary>What strikes and bans are counted against: the address alone (port 0), or address and port for NAT.</summary>
    private IPEndPoint BanKey(IPEndPoint endPoint) =>
        Engine.Options.BanByAddress ? new IPEndPoint(endPoint.Address.IsIPv4MappedToIPv6 ? endPoint.Address.MapToIPv4() : endPoint.Address, 0) : endPoint;

    private void ConnectToCandidates()
    {
        if (!IsTransferring || _disposed) return;
        if (_state is TorrentState.Finished or TorrentState.Seeding && !Engine.Options.SeedsDialPeers) return;
        var now = Engine.TimeProvider.NowMilliseconds();
        foreach (var c in _candidates.All)
        {
            if (_peers.Count + _pending.Count >= Engine.Options.MaxConnectionsPerTorrent) break;
            if (c.Connected || c.NextAttemptTicks > now || IsBanned(c.EndPoint) || AddressFull(c.EndPoint)) continue;
            if (!Engine.TryReserveHalfOpen())
            {
                Engine.DialsDeferred();
                break;
            }
            if (!Engine.TryReserveConnection())
            {
                Engine.ReleaseHalfOpen();
                break;
            }
            c.Connected = true;
            var connection = new SocketPeerConnection(c.EndPoint, Engine.SocketOptions);
            var session = new PeerSession(this, connection, _stopping.Token) { HoldsHalfOpenSlot = true, Source = c.Source };
            _pending.Add(session);
            Track(session.RunAsync(null, null, OurHandshake()));
        }
    }

    /// <summary>A half-open slot came free somewhere in the engine: dial now rather than on the next tick (any thread).</summary>
    internal void NudgeDials()
    {
        if (!_disposed) Post(new Work(WorkKind.Command, Data: new TorrentCommand(t => t.ConnectToCandidates())));
    }

    /// <summary>
    /// Whether this torrent already has <see cref="EngineOptions.MaxConnectionsPerAddress"/> connections (open or
    /// opening) with the address, so one host cannot fill the torrent's slots from many ports.
    /// </summary>
    private bool AddressFull(IPEndPoint? endPoint)
    {
        if (endPoint is null) return false;
        var address = Normalise(endPoint.Address);
        if (IPAddress.IsLoopback(address) && !Engine.Options.LimitLoopbackConnections) return false;
        var n = 0;
        foreach (var p in _peers)
            if (p.EndPoint is { } ep && Normalise(ep.Address).Equals(address)) n++;
        foreach (var p in _pending)
            if (p.EndPoint is { } ep && Normalise(ep.Address).Equals(address)) n++;
        return n >= Engine.Options.MaxConnectionsPerAddress;
    }

    private static IPAddress Normalise(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>Uses an already-made connection as an outgoing peer (tests: one end of an in-memory pair).</summary>
    internal void ConnectTo(IPeerConnection connection) =>
        Post(new Work(WorkKind.Command, Data: new TorrentCommand(t =>
        {
            if (t.AddressFull(connection.RemoteEndPoint as IPEndPoint) || !t.Engine.TryReserveHalfOpen())
            {
                _ = connection.DisposeAsync().AsTask();
                return;
            }
            if (!t.Engine.TryReserveConnection())
            {
                t.Engine.ReleaseHalfOpen();
                _ = connection.DisposeAsync().AsTask();
                return;
            }
            var session = new PeerSession(t, connection, t._stopping.Token) { HoldsHalfOpenSlot = true };
            t._pending.Add(session);
            t.Track(session.RunAsync(null, null, t.OurHandshake()));
        })));

    internal Handshake OurHandshake() => new(ReservedBits.Default, InfoHash.ToArray(), Engine.PeerId);

    /// <summary>An incoming connection whose handshake named this torrent (called by the engine's listener).</summary>
    internal void AcceptIncoming(IPeerConnection connection, PeerWireReader reader, Handshake theirs)
    {
        Post(new Work(WorkKind.Command, Data: new TorrentCommand(t => t.DoAcceptIncoming(connection, reader, theirs))));
    }

    private void DoAcceptIncoming(IPeerConnection connection, PeerWireReader reader, Handshake theirs)
    {
        var ep = connection.RemoteEndPoint as IPEndPoint;
        if (!IsTransferring || _bannedIds.Contains(theirs.PeerId) || IsBanned(ep) || AddressFull(ep) ||
            _peers.Count + _pending.Count >= Engine.Options.MaxConnectionsPerTorrent || !Engine.TryReserveConnection())
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

    private void HandlePeerWork(PeerSession peer, in Work work)
    {
        if (work.Kind == WorkKind.PeerClosed) { OnPeerClosed(peer); return; }
        if (work.Kind == WorkKind.PeerConnected) { OnPeerConnected(peer); return; }
        if (!peer.Registered) return;
        switch (work.Kind)
        {
            case WorkKind.BlockReceived:
                OnBlockReceived(peer, work);
                _needRequests.Add(peer);
                break;
            case WorkKind.BlockDropped:
                OnBlockDropped(peer, work);
                break;
            case WorkKind.BlockUnrequested:
                // Data nobody asked this peer for (dropped unread): a broken or hostile peer. A strike, so one that
                // keeps coming back is banned, and the connection goes.
                Strike(peer, StrikeReason.UnrequestedBlock);
                ProtocolError(peer);
                break;
            case WorkKind.Choke:
                peer.PeerChoking = true;
                ReleaseRequests(peer);
                break;
            case WorkKind.Unchoke:
                peer.PeerChoking = false;
                _needRequests.Add(peer);
                break;
            case WorkKind.Interested:
                peer.PeerInterested = true;
                if (peer.AmChoking && UnchokedCount() < MaxUnchoked + 1) Unchoke(peer);
                break;
            case WorkKind.NotInterested:
                peer.PeerInterested = false;
                break;
            case WorkKind.Have:
                OnHave(peer, work.Index);
                break;
            case WorkKind.Bitfield:
                OnBitfield(peer, (byte[])work.Data!);
                break;
            case WorkKind.HaveAll:
                OnHaveAll(peer);
                break;
            case WorkKind.HaveNone:
                EnsurePeerHave(peer);
                UpdateInterest(peer);
                break;
            case WorkKind.Request:
                OnRequest(peer, new BlockRequest(work.Index, work.Begin, work.Length));
                break;
            case WorkKind.Cancel:
                peer.CancelUpload(new BlockRequest(work.Index, work.Begin, work.Length));
                break;
            case WorkKind.RejectRequest:
                // The same as a block that never comes: back to the picker (BEP 6).
                OnBlockDropped(peer, work);
                break;
            case WorkKind.AllowedFast:
                if ((Metainfo is null || (uint)work.Index < (uint)Metainfo.PieceCount) &&
                    peer.AllowedFastFromPeer.Count < PeerSession.MaxAllowedFast && !peer.AllowedFastFromPeer.Contains(work.Index))
                    peer.AllowedFastFromPeer.Add(work.Index);
                _needRequests.Add(peer);
                break;
            case WorkKind.Suggest:
                OnSuggest(peer, work.Index);
                break;
            case WorkKind.Extended:
                OnExtended(peer, work.Index, (byte[])work.Data!);
                break;
        }
    }

    private void OnPeerConnected(PeerSession peer)
    {
        _pending.Remove(peer);
        if (peer.IsClosed) return;
        // Checked here too, so a banned address is refused whichever side dialled.
        if (_bannedIds.Contains(peer.PeerId) || IsBanned(peer.EndPoint) || !IsTransferring || !_peerIds.Add(peer.PeerId))
        {
            peer.Close();
            return;
        }
        peer.Registered = true;
        peer.ConnectedAt = Engine.TimeProvider.GetUtcNow();
        peer.QueueDepth = new RequestQueueDepth(Engine.TimeProvider, QueueDepthOptions);
        EnsurePeerHave(peer);
        _peers.Add(peer);
        if (peer.EndPoint is { } ep && _candidates.TryGet(ep, out var c)) c.Failures = 0;
        if (peer.SupportsExtensionProtocol) SendExtensionHandshake(peer);
        if (TryStartSuperSeeding(peer))
        {
            // Advertised one piece at a time instead of a bitfield.
        }
        else if (_have is { } have)
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
        _pending.Remove(peer);
        Engine.ReleaseConnection();
        _uploadedClosed += peer.Uploaded;
        if (peer.EndPoint is { } ep && _candidates.TryGet(ep, out var c))
        {
            c.Connected = false;
            if (!peer.Registered) c.Failures++;
            // Exponential backoff with jitter, so a dead peer is not hammered and many are not retried in step.
            var backoff = Math.Min(300_000, 2_000 * (1L << Math.Min(c.Failures, 8)));
            c.NextAttemptTicks = Engine.TimeProvider.NowMilliseconds() + (long)(backoff * (0.75 + _random.NextDouble() * 0.5));
        }
        if (!peer.Registered) return;
        peer.Registered = false;
        _peers.Remove(peer);
        _peerIds.Remove(peer.PeerId);
        _needRequests.Remove(peer);
        ReleaseRequests(peer);
        UncountAvailability(peer);
        SuperSeedPeerClosed(peer);
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
        if (!peer.AmInterested && _wanted[index] && !_have![index]) UpdateInterest(peer);
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
        var valid = Metainfo is not null && _have is not null && (uint)block.PieceIndex < (uint)Metainfo.PieceCount &&
                    _have[block.PieceIndex] && MayRequest(peer, block.PieceIndex) && block.Length is > 0 and <= BlockRequest.StandardBlockLength &&
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
        peer.UnchokedAtTicks = Engine.TimeProvider.NowMilliseconds();
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
        if (peer.EndPoint is not { } endPoint) return;
        var key = BanKey(endPoint);
        _strikes.TryGetValue(key, out var n);
        _strikes[key] = ++n;
        if (n < StrikesToBan || IsBanned(endPoint)) return;
        _bannedUntil[key] = Engine.TimeProvider.NowMilliseconds() + (long)BanTime.TotalMilliseconds;
        _bannedIds.Add(peer.PeerId);
        Engine.Emit(new PeerBannedEvent(InfoHash, Now, peer.Name, $"{n} strikes, the last: {Describe(offence)}"));
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
        var now = Engine.TimeProvider.NowMilliseconds();
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
            if (p.Outstanding.Count > 0 && !p.Snubbed && Engine.TimeProvider.GetElapsedTime(p.LastBlockAt) > SnubAfter)
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
        if (_peers.Count == 0 && _state is TorrentState.Downloading or TorrentState.FetchingMetadata && !_announcing) _trackers?.RequestAnnounce();
        AnnounceIfDue();
        if (_ticks % 2 == 0 && Metainfo is null) RequestMetadata(tick: true);
        if (_resumeDirty && now - _lastResumeSaveTicks > Engine.Options.ResumeSaveInterval.TotalMilliseconds) SaveResume();
        RefreshSnapshots();
        PublishStatus();
        TrackSeeding();
        EmitProgress();
    }

    private void EmitProgress()
    {
        if (_verifiedBatch.Count > 0)
        {
            Engine.Emit(new PiecesVerifiedEvent(InfoHash, Now, _verifiedBatch.ToArray()));
            _verifiedBatch.Clear();
        }
        // An idle seed has nothing new to say every second.
        var idleSeed = _state is TorrentState.Seeding or TorrentState.Finished && _uploadRate == 0;
        if (_state is TorrentState.Downloading or TorrentState.Seeding or TorrentState.Finished or TorrentState.FetchingMetadata &&
            !idleSeed && Now - _lastProgressEvent >= TimeSpan.FromSeconds(1))
        {
            _lastProgressEvent = Now;
            Engine.Emit(new ProgressEvent(InfoHash, Now, Status));
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
