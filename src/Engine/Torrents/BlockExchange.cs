using TorrentEdge.Engine.Choking;
using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.PiecePicking;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Throttling;

namespace TorrentEdge.Engine.Torrents;

/// <summary>Why a peer is held to account (<see cref="IBlockExchangeOwner.Strike"/>).</summary>
internal enum StrikeReason
{
    PieceHashFailed,
    MetadataHashFailed,
    UnrequestedBlock,
}

/// <summary>What the block exchange needs of its torrent: what it is, whether it may download, and where a finished piece and an offence go.</summary>
internal interface IBlockExchangeOwner
{
    /// <summary>Null until a magnet's metadata arrives.</summary>
    TorrentMetainfo? Metainfo { get; }

    TorrentState State { get; }

    /// <summary>The layout of the open files; null until a check has finished, and blocks are requested only then.</summary>
    StorageLayout? StorageLayout { get; }

    /// <summary>A piece's last block arrived: hash and write it.</summary>
    void PieceCompleted(ActivePiece piece);

    /// <summary>Accepted block bytes, for the torrent's counters.</summary>
    void BlockDownloaded(int length);

    void Strike(PeerSession peer, StrikeReason offence);

    /// <summary>The peer broke the protocol: counted and disconnected.</summary>
    void ProtocolError(PeerSession peer);
}

/// <summary>
/// The peer wire between the torrent and its connected peers (BEP 3 and BEP 6): choking and interest both ways,
/// have/bitfield and availability, the request pipeline per peer (the picker, adaptive depth, snubbing, endgame
/// cancels), blocks received and dropped, requests served (validated, then queued to the session's upload task),
/// allowed-fast and suggestions, keep-alives and idle disconnects. It owns the <see cref="PiecePicker"/> and the
/// <see cref="Choker"/>; the torrent's loop hands it each wire event and calls <see cref="TopUp"/> after a batch.
/// Loop only: nothing here is touched from another thread.
/// </summary>
internal sealed class BlockExchange
{
    private const int MaxUnchoked = 4;
    private const int MaxRequestDepth = 500;
    private static readonly TimeSpan SnubAfter = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan IdleDisconnect = TimeSpan.FromMinutes(3);
    private const long KeepAliveAfterMs = 90_000;

    /// <summary>Torrents with fewer pieces grant no allowed-fast set (10 pieces would be too much of them).</summary>
    private const int AllowedFastMinPieces = 4 * AllowedFastSet.DefaultCount;

    private static readonly RequestQueueDepthOptions QueueDepthOptions = new()
    {
        MinDepth = 16,
        MaxDepth = MaxRequestDepth,
        InitialDepth = 32,
        MinQueueTime = TimeSpan.FromMilliseconds(500),
        SlowStart = true,
    };

    private readonly IBlockExchangeOwner _owner;
    private readonly InfoHash _infoHash;
    private readonly TimeProvider _time;
    private readonly PieceTracker _pieces;
    private readonly List<PeerSession> _peers;
    private readonly BandwidthLimiter _downloadLimiter;
    private readonly SuperSeeding _superSeeding;
    private readonly Random _random;
    private readonly bool _sequential;
    private readonly HashSet<PeerSession> _needRequests = [];
    private readonly BlockRequest[] _picked = new BlockRequest[MaxRequestDepth];
    private readonly PeerBlockRequest[] _cancellations = new PeerBlockRequest[PiecePickerSettings.Default.MaxDuplicateRequests + 1];
    private readonly IPieceRequester[] _contributors = new IPieceRequester[64];
    private readonly List<BlockRequest> _rejected = [];
    private PiecePicker? _picker;
    private Choker? _choker;

    public BlockExchange(IBlockExchangeOwner owner, InfoHash infoHash, TimeProvider time, PieceTracker pieces,
        List<PeerSession> peers, BandwidthLimiter downloadLimiter, SuperSeeding superSeeding, Random random, bool sequential)
    {
        _owner = owner;
        _infoHash = infoHash;
        _time = time;
        _pieces = pieces;
        _peers = peers;
        _downloadLimiter = downloadLimiter;
        _superSeeding = superSeeding;
        _random = random;
        _sequential = sequential;
    }

    /// <summary>Tit-for-tat on the engine clock, so rechoke and optimistic rotation follow the injected time.</summary>
    private Choker Choker => _choker ??= new Choker(ChokerOptions.Default, _time, _random);

    /// <summary>The picker over the current have-set; null until the metadata is known.</summary>
    public PiecePicker? Picker => _picker;

    // ---- the picker ----

    /// <summary>
    /// A fresh picker over what we have now (after the metadata arrives and after each file check), with the
    /// piece priorities and every connected peer's pieces counted again. Requests in flight are forgotten: a
    /// block that still arrives finds no buffer and is dropped.
    /// </summary>
    public void ResetPicker()
    {
        var m = _owner.Metainfo!;
        foreach (var p in _peers)
        {
            p.Outstanding.Clear();
            p.CountedAvailability = false;
        }
        var settings = new PiecePickerSettings { Sequential = _sequential, MaxActivePieces = _pieces.MaxActivePieces };
        _picker = new PiecePicker(m.TotalLength, m.PieceLength, settings, _pieces.Have, _random);
        _picker.SetPriorities(_pieces.Priorities);
        foreach (var p in _peers)
        {
            EnsurePeerHave(p);
            CountAvailability(p);
        }
    }

    /// <summary>The piece priorities changed (file priorities).</summary>
    public void PrioritiesChanged() => _picker?.SetPriorities(_pieces.Priorities);

    // ---- peers coming and going ----

    /// <summary>A connection was registered: its pipeline sizing and, once the metadata is known, its bitfield.</summary>
    public void PeerRegistered(PeerSession peer)
    {
        peer.QueueDepth = new RequestQueueDepth(_time, QueueDepthOptions);
        EnsurePeerHave(peer);
    }

    /// <summary>What we tell a new peer we have: super-seeding's one offer, or the bitfield (BEP 6 shortcuts), then its allowed-fast set.</summary>
    public void Advertise(PeerSession peer)
    {
        var m = _owner.Metainfo;
        if (m is not null && _superSeeding.TryStart(peer, m.PieceCount, _pieces.Have))
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
    }

    /// <summary>A registered peer left: its requests and pieces go back to the picker, and everyone else may take them.</summary>
    public void PeerClosed(PeerSession peer)
    {
        _needRequests.Remove(peer);
        ReleaseRequests(peer);
        UncountAvailability(peer);
        _superSeeding.PeerClosed(peer);
        foreach (var p in _peers) _needRequests.Add(p);
    }

    // ---- wire events ----

    /// <summary>One wire event of a registered peer (everything but connect, close and extended messages).</summary>
    public void Handle(in PeerEvent work)
    {
        var peer = work.Peer;
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
                _owner.Strike(peer, StrikeReason.UnrequestedBlock);
                _owner.ProtocolError(peer);
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
                if ((_owner.Metainfo is not { } m || (uint)work.Index < (uint)m.PieceCount) &&
                    peer.AllowedFastFromPeer.Count < PeerSession.MaxAllowedFast && !peer.AllowedFastFromPeer.Contains(work.Index))
                    peer.AllowedFastFromPeer.Add(work.Index);
                _needRequests.Add(peer);
                break;
            case PeerEventKind.Suggest:
                OnSuggest(peer, work.Index);
                break;
        }
    }

    /// <summary>
    /// BEP 6: a Fast peer gets its canonical allowed-fast set (from its /24 and the info-hash, so every client
    /// computes the same one), pieces it may fetch from us while choked, to get started before its first unchoke.
    /// Only when the set is a small part of the torrent, else it would be a way to download it without trading.
    /// </summary>
    private void GrantAllowedFast(PeerSession peer)
    {
        if (!peer.SupportsFast || _owner.Metainfo is not { } m || peer.EndPoint is not { } ep) return;
        if (m.PieceCount < AllowedFastMinPieces) return;
        Span<int> set = stackalloc int[AllowedFastSet.DefaultCount];
        var n = AllowedFastSet.Generate(_infoHash.ToArray(), ep.Address, m.PieceCount, set);
        if (n == 0) return;
        peer.AllowedFastToPeer = set[..n].ToArray();
        foreach (var piece in peer.AllowedFastToPeer) peer.Send(PeerMessage.AllowedFast(piece));
    }

    private void OnSuggest(PeerSession peer, int index)
    {
        if (_owner.Metainfo is not { } m || (uint)index >= (uint)m.PieceCount) return;
        var list = peer.SuggestedByPeer;
        list.Remove(index);
        if (list.Count >= PeerSession.MaxSuggested) list.RemoveAt(list.Count - 1);
        list.Insert(0, index);
        _needRequests.Add(peer);
    }

    private void OnHave(PeerSession peer, int index)
    {
        if (_owner.Metainfo is not { } m)
        {
            return;
        }
        if ((uint)index >= (uint)m.PieceCount) { peer.Close(); return; }
        EnsurePeerHave(peer);
        var has = peer.PeerHave!;
        if (has[index]) return;
        has[index] = true;
        if (peer.CountedAvailability) _picker?.Availability.Increment(index);
        else CountAvailability(peer);
        if (!peer.AmInterested && _pieces.Wanted[index] && !_pieces.Have![index]) UpdateInterest(peer);
        _superSeeding.OnHave(peer, index, m.PieceCount);
        _needRequests.Add(peer);
    }

    /// <summary>A peer's bitfield; before the metadata is known it waits on the peer (<see cref="ApplyPendingBitfields"/>).</summary>
    private void OnBitfield(PeerSession peer, byte[] bytes)
    {
        if (_owner.Metainfo is not { } m)
        {
            peer.PendingBitfield = bytes;
            return;
        }
        if (!BitField.TryFromBytes(bytes, m.PieceCount, out var bits)) { peer.Close(); return; }
        UncountAvailability(peer);
        peer.PeerHasAll = false;
        peer.PeerHave = bits;
        CountAvailability(peer);
        UpdateInterest(peer);
        _superSeeding.OnBitfield(peer, bits!);
        _needRequests.Add(peer);
    }

    /// <summary>The metadata arrived: the bitfields peers sent before it count now.</summary>
    public void ApplyPendingBitfields()
    {
        foreach (var p in _peers)
        {
            if (p.PendingBitfield is { } pending)
            {
                p.PendingBitfield = null;
                OnBitfield(p, pending);
            }
        }
    }

    private void OnHaveAll(PeerSession peer)
    {
        UncountAvailability(peer);
        peer.PeerHasAll = true;
        peer.PeerHave = null;
        if (_owner.Metainfo is not null)
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
        if (peer.PeerHave is not null || _owner.Metainfo is not { } m) return;
        peer.PeerHave = new BitField(m.PieceCount);
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

    /// <summary>Tells the peer whether we want something it has (only while downloading).</summary>
    public void UpdateInterest(PeerSession peer)
    {
        var interested = _owner.State == TorrentState.Downloading && _picker is { } picker && peer.PeerHave is not null && picker.IsInteresting(peer);
        if (interested == peer.AmInterested) return;
        peer.AmInterested = interested;
        peer.Send(interested ? PeerMessage.Interested : PeerMessage.NotInterested);
    }

    /// <summary>What we want changed (file priorities): interest again for every peer.</summary>
    public void UpdateInterestAll()
    {
        foreach (var p in _peers) UpdateInterest(p);
    }

    /// <summary>What we have or want changed wholesale (a check, a lost piece): interest again, and every pipeline topped up.</summary>
    public void RefreshAll()
    {
        foreach (var p in _peers)
        {
            UpdateInterest(p);
            _needRequests.Add(p);
        }
    }

    // ---- serving ----

    private void OnRequest(PeerSession peer, BlockRequest block)
    {
        var m = _owner.Metainfo;
        var valid = m is not null && _pieces.Have is not null && (uint)block.PieceIndex < (uint)m.PieceCount &&
                    _pieces.Have[block.PieceIndex] && SuperSeeding.MayRequest(peer, block.PieceIndex) && block.Length is > 0 and <= BlockRequest.StandardBlockLength &&
                    block.Begin >= 0 && (long)block.Begin + block.Length <= m.GetPieceLength(block.PieceIndex);
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
        SuperSeeding.OfferLastPieceEarly(peer, block.PieceIndex);
    }

    // ---- choking ----

    private void Unchoke(PeerSession peer)
    {
        if (!peer.AmChoking) return;
        peer.AmChoking = false;
        peer.UnchokedAtTicks = _time.NowMilliseconds();
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

    /// <summary>
    /// Tit-for-tat (<see cref="Choking.Choker"/>): the interested peers that gave us most (or, seeding, took most)
    /// keep their slots, plus one optimistic unchoke that rotates; everyone else is choked.
    /// </summary>
    private void Rechoke()
    {
        var seeding = _owner.State is TorrentState.Seeding or TorrentState.Finished;
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

    // ---- periodic work ----

    /// <summary>
    /// Once a tick, after the peers' rates were counted: queue depths, snubbing (requests back to the picker), keep-alives
    /// and idle disconnects, every pipeline topped up next batch, the choker's round when due, and buffers let go swept.
    /// </summary>
    public void Tick()
    {
        var now = _time.NowMilliseconds();
        foreach (var p in _peers)
        {
            p.QueueDepth?.Tick();
            p.RelaxReceiveBatching();
            if (p.Outstanding.Count > 0 && !p.Snubbed && _time.GetElapsedTime(p.LastBlockAt) > SnubAfter)
            {
                // Snubbed: its requests and pieces go back to the picker for others; it gets one block at a time.
                p.Snubbed = true;
                var n = p.Outstanding.Drain(_picked);
                for (var i = 0; i < n; i++) p.Send(PeerMessage.Cancel(_picked[i]));
                ReleaseRequests(p);
            }
            if (now - p.LastReceiveTicks > IdleDisconnect.TotalMilliseconds) p.Close();
            else if (now - p.LastSendTicks > KeepAliveAfterMs) p.Send(PeerMessage.KeepAlive);
            _needRequests.Add(p);
        }
        if (Choker.IsRechokeDue && _peers.Count > 0) Rechoke();
        SweepActivePieces();
    }

    /// <summary>After a batch of work: top up the request pipelines of peers whose state changed.</summary>
    public void TopUp()
    {
        if (_needRequests.Count == 0) return;
        foreach (var p in _needRequests) RequestMore(p);
        _needRequests.Clear();
    }

    // ---- receiving ----

    private void OnBlockReceived(PeerSession peer, in PeerEvent work)
    {
        var block = new BlockRequest(work.Index, work.Begin, work.Length);
        var requested = peer.Outstanding.Remove(block, out var sentAt);
        var piece = work.Piece!;
        if (_picker is not { } picker) return;
        if (!ReferenceEquals(_pieces.GetActive(work.Index), piece))
        {
            // Copied into a buffer already let go: as good as dropped.
            if (requested) picker.ReturnBlock(peer, block);
            return;
        }
        if (requested) peer.QueueDepth?.BlockReceived(work.Length, _time.GetElapsedTime(sentAt));
        peer.LastBlockAt = _time.GetTimestamp();
        peer.Snubbed = false;
        var outcome = picker.BlockReceived(peer, block, _cancellations, out var cancelCount);
        // Endgame: whoever else was asked for this block need not send it.
        for (var i = 0; i < cancelCount; i++)
        {
            var other = (PeerSession)_cancellations[i].Peer;
            if (other.Outstanding.Cancel(block)) other.Send(PeerMessage.Cancel(block));
            _needRequests.Add(other);
        }
        _cancellations.AsSpan(0, cancelCount).Clear();
        if (outcome is not (BlockOutcome.Accepted or BlockOutcome.PieceComplete)) return;
        peer.Downloaded += work.Length;
        _owner.BlockDownloaded(work.Length);
        if (outcome == BlockOutcome.PieceComplete) _owner.PieceCompleted(piece);
    }

    private void OnBlockDropped(PeerSession peer, in PeerEvent work)
    {
        var block = new BlockRequest(work.Index, work.Begin, work.Length);
        if (!peer.Outstanding.Remove(block, out _)) return;
        _picker?.ReturnBlock(peer, block);
        _needRequests.Add(peer);
    }

    /// <summary>Every peer that delivered a block of the piece (the ones a hash failure strikes).</summary>
    public PeerSession[] TakeContributors(int index)
    {
        var count = _picker!.GetContributors(index, _contributors);
        var contributors = new PeerSession[count];
        for (var i = 0; i < count; i++) contributors[i] = (PeerSession)_contributors[i];
        _contributors.AsSpan().Clear();
        return contributors;
    }

    /// <summary>A piece passed its hash: the picker is done with it.</summary>
    public void PieceVerified(int index) => _picker?.PieceVerified(index);

    /// <summary>A verified piece is ours: every peer hears HAVE, and a peer that had it may no longer interest us.</summary>
    public void AnnounceHave(int index)
    {
        foreach (var p in _peers)
        {
            p.Send(PeerMessage.Have(index));
            // Only a peer that had this piece can have become uninteresting.
            if (p.AmInterested && p.PeerHave is { } h && h[index]) UpdateInterest(p);
        }
    }

    /// <summary>A piece failed its hash: the picker fetches it again.</summary>
    public void PieceFailed(int index) => _picker?.PieceFailed(index);

    // ---- requesting ----

    /// <summary>
    /// Under a download limit a peer may have at most one second of the limited rate outstanding: what is
    /// requested arrives whether or not the limiter lets us read it yet, so a deeper pipeline is a burst.
    /// </summary>
    private int DownloadLimitDepth()
    {
        var torrent = _downloadLimiter.Torrent.BytesPerSecond;
        var global = _downloadLimiter.Global.BytesPerSecond;
        var rate = torrent == 0 ? global : global == 0 ? torrent : Math.Min(torrent, global);
        return rate == 0 ? int.MaxValue : (int)Math.Max(1, rate / BlockRequest.StandardBlockLength);
    }

    /// <summary>Fills the peer's request pipeline up to its adaptive depth with blocks the picker chooses.</summary>
    private void RequestMore(PeerSession peer)
    {
        if (_owner.State != TorrentState.Downloading || peer.IsClosed || _owner.StorageLayout is null || _picker is not { } picker || peer.PeerHave is null) return;
        if (peer.PeerChoking && peer.AllowedFastFromPeer.Count == 0) return;
        var room = Math.Min(Math.Min(peer.Snubbed ? 1 : peer.RequestDepth, DownloadLimitDepth()) - peer.Outstanding.Count, _picked.Length);
        if (room <= 0) return;
        // Buffers of pieces the picker let go are otherwise returned on the next tick; at the cap they go now, so
        // what the loop holds stays within the cap too.
        if (_pieces.ActiveList.Count >= _pieces.MaxActivePieces) SweepActivePieces();
        var n = picker.PickBlocks(peer, _picked.AsSpan(0, room));
        if (n == 0) return;
        var now = _time.GetTimestamp();
        // The snub clock starts when the peer has something to answer, not at the last block long ago.
        if (peer.Outstanding.Count == 0) peer.LastBlockAt = now;
        for (var i = 0; i < n; i++)
        {
            var block = _picked[i];
            _pieces.Activate(block.PieceIndex, picker.GetPieceLength(block.PieceIndex), _owner.StorageLayout);
            peer.Outstanding.Add(block, now);
            peer.Send(PeerMessage.Request(block));
        }
    }

    /// <summary>Gives the peer's requests and its pieces back to the picker (it choked us, went away or is snubbed).</summary>
    private void ReleaseRequests(PeerSession peer)
    {
        peer.Outstanding.Clear();
        if (_picker is not null && peer.PeerHave is not null) _picker.PeerGone(peer);
    }

    /// <summary>Returns the buffers of pieces the picker let go with nothing received (their requester left or choked).</summary>
    private void SweepActivePieces()
    {
        if (_picker is not { } picker) return;
        _pieces.Sweep(picker);
    }
}
