using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.PiecePicking;

/// <summary>What became of a received block.</summary>
public enum BlockOutcome
{
    /// <summary>The first copy of a wanted block: store it.</summary>
    Accepted,
    /// <summary>Accepted, and now every block of the piece is here: hash it, then call PieceVerified or PieceFailed.</summary>
    PieceComplete,
    /// <summary>Another peer's copy arrived first (endgame): drop it.</summary>
    Duplicate,
    /// <summary>Not a block of a piece being downloaded (verified already, never started, or a bad offset): drop it.</summary>
    Unexpected,
}

/// <summary>A request to one peer: what to cancel when another peer delivered the block first.</summary>
public readonly record struct PeerBlockRequest(IPieceRequester Peer, BlockRequest Block);

/// <summary>
/// Decides which blocks to request from which peer. It tracks the blocks of every started piece (free,
/// requested by whom, received), continues started pieces before starting new ones, asks the strategy chain
/// (<see cref="IPieceSelector"/>) which piece to start, and in endgame hands out blocks already in flight up to a
/// duplicate budget. Not thread-safe: the torrent's loop owns it. Picking does not allocate.
/// </summary>
public sealed class PiecePicker
{
    private readonly PiecePickerSettings _settings;
    private readonly IPieceSelector _selector;
    private readonly PieceProgress?[] _progress;
    private readonly List<PieceProgress> _active = [];
    private readonly Stack<PieceProgress> _pool = new();
    // The piece each peer fetches now (a hint, checked before use), so topping up a pipeline does not scan every started piece.
    private readonly Dictionary<IPieceRequester, PieceProgress> _current = new(ReferenceEqualityComparer.Instance);
    private readonly PieceSet _wanted;
    private readonly PieceSet _startable;
    private readonly PieceSet _candidates;
    private readonly int _maxRequesters;
    private int _startableCount;
    private int _wantedCount;

    /// <param name="have">Pieces already verified (e.g. from resume data); the picker keeps it up to date.</param>
    /// <param name="selector">The strategy chain; null builds it from <paramref name="settings"/> (see <see cref="CreateSelector"/>).</param>
    public PiecePicker(long totalLength, int pieceLength, PiecePickerSettings? settings = null, BitField? have = null, Random? random = null, Func<PickingContext, IPieceSelector>? selector = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceLength);
        ArgumentOutOfRangeException.ThrowIfNegative(totalLength);
        _settings = settings ?? PiecePickerSettings.Default;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(_settings.BlockLength);
        ArgumentOutOfRangeException.ThrowIfNegative(_settings.MaxDuplicateRequests);
        TotalLength = totalLength;
        PieceLength = pieceLength;
        PieceCount = checked((int)((totalLength + pieceLength - 1) / pieceLength));
        have ??= new BitField(PieceCount);
        if (have.Length != PieceCount) throw new ArgumentException("The bitfield's length is not the piece count.", nameof(have));
        Context = new PickingContext(PieceCount, have, random ?? Random.Shared);
        _selector = selector is null ? CreateSelector(_settings, Context) : selector(Context);
        _maxRequesters = 1 + _settings.MaxDuplicateRequests;
        _progress = new PieceProgress?[PieceCount];
        _wanted = new PieceSet(PieceCount);
        _startable = new PieceSet(PieceCount);
        _candidates = new PieceSet(PieceCount);
        for (var i = have.NextSet(0); i >= 0; i = have.NextSet(i + 1)) Context.Availability.Retire(i);
        RecomputeWanted();
    }

    /// <summary>Assembles the strategy chain from settings, outermost first: priority → (sequential | suggested → random-first → rarest-first | first-available).</summary>
    public static IPieceSelector CreateSelector(PiecePickerSettings settings, PickingContext context)
    {
        IPieceSelector chain;
        if (settings.Sequential)
        {
            chain = new SequentialSelector(context);
        }
        else
        {
            chain = settings.RarestFirst ? new RarestFirstSelector(context) : new FirstAvailableSelector();
            if (settings.RandomFirstPieces > 0) chain = new RandomFirstSelector(chain, context, settings.RandomFirstPieces);
            // Not for sequential picking: a stream needs its next piece, whatever the peer has cached.
            if (settings.HonourSuggestions) chain = new SuggestedSelector(chain);
        }
        return new PrioritySelector(chain, context);
    }

    public PickingContext Context { get; }

    public int PieceCount { get; }

    public int PieceLength { get; }

    public long TotalLength { get; }

    /// <summary>Verified pieces (what we advertise).</summary>
    public BitField Have => Context.Have;

    public Availability Availability => Context.Availability;

    /// <summary>Pieces with at least one block requested or received, not yet verified.</summary>
    public int ActivePieceCount => _active.Count;

    /// <summary>Wanted pieces not yet verified.</summary>
    public int RemainingPieceCount => _wantedCount;

    /// <summary>Every wanted piece is started, so blocks in flight may be requested again from other peers.</summary>
    public bool IsEndgame => _startableCount == 0 && _wantedCount > 0 && _settings.MaxDuplicateRequests > 0;

    /// <summary>Where sequential picking starts (e.g. the piece under the player's position).</summary>
    public int SequentialPosition
    {
        get => Context.SequentialPosition;
        set => Context.SequentialPosition = Math.Clamp(value, 0, Math.Max(0, PieceCount - 1));
    }

    public int GetPieceLength(int piece) =>
        piece == PieceCount - 1 ? (int)(TotalLength - (long)piece * PieceLength) : PieceLength;

    public int GetBlockCount(int piece) => (GetPieceLength(piece) + _settings.BlockLength - 1) / _settings.BlockLength;

    public int GetBlockLength(int piece, int block) =>
        Math.Min(_settings.BlockLength, GetPieceLength(piece) - block * _settings.BlockLength);

    /// <summary>Sets per-piece priorities (see <see cref="PiecePriorities.FromFiles"/>); skipped pieces are never picked.</summary>
    public void SetPriorities(ReadOnlySpan<PiecePriority> priorities)
    {
        Context.SetPriorities(priorities);
        RecomputeWanted();
    }

    /// <summary>Whether blocks of <paramref name="piece"/> are being tracked (requested or received, not yet verified or failed).</summary>
    public bool IsStarted(int piece) => (uint)piece < (uint)PieceCount && _progress[piece] is not null;

    /// <summary>Whether the peer has any piece we still want (so we should be interested).</summary>
    public bool IsInteresting(IPieceRequester peer)
    {
        _candidates.CopyFrom(peer.Pieces);
        return _candidates.Intersects(_wanted);
    }

    /// <summary>
    /// Writes up to <paramref name="destination"/>.Length block requests for <paramref name="peer"/> and returns
    /// how many; each is recorded as requested by that peer until received, returned or the peer is gone.
    /// </summary>
    public int PickBlocks(IPieceRequester peer, Span<BlockRequest> destination)
    {
        if (destination.IsEmpty || _wantedCount == 0) return 0;
        if (peer.IsSnubbed) destination = destination[..1];
        if (peer.IsChokingUs) return PickAllowedFast(peer, destination);

        var pieces = peer.Pieces;
        var n = 0;
        // 1. The piece this peer is fetching: the common case (a block arrived, one more is wanted) costs O(1).
        if (_current.TryGetValue(peer, out var current) && ReferenceEquals(current.Owner, peer) && current.FreeCount > 0 &&
            _wanted[current.Piece] && pieces[current.Piece])
            n += TakeFree(current, peer, destination);
        // 2. Other pieces it owns, and pieces whose owner left or stalls: fewer partial pieces verify (and spread) sooner.
        //    A piece otherwise stays with one peer, so a hash failure almost always has a single culprit.
        for (var i = 0; i < _active.Count && n < destination.Length; i++)
        {
            var progress = _active[i];
            if (progress.FreeCount == 0 || !_wanted[progress.Piece] || !pieces[progress.Piece]) continue;
            if (progress.Owner is { } owner && !ReferenceEquals(owner, peer) && !owner.IsSnubbed) continue;
            progress.Owner = peer;
            _current[peer] = progress;
            n += TakeFree(progress, peer, destination[n..]);
        }
        // 3. New pieces from the strategy chain.
        if (n < destination.Length && _startableCount > 0 && CanStart)
        {
            _candidates.CopyFrom(pieces);
            _candidates.And(_startable);
            while (n < destination.Length && CanStart)
            {
                var piece = _selector.SelectPiece(peer, _candidates);
                if (piece < 0) break;
                _candidates[piece] = false;
                var progress = Start(piece, peer);
                n += TakeFree(progress, peer, destination[n..]);
            }
        }
        // 4. Nothing new this peer could start: help with free blocks of pieces other peers are fetching.
        for (var i = 0; i < _active.Count && n < destination.Length; i++)
        {
            var progress = _active[i];
            if (progress.FreeCount > 0 && _wanted[progress.Piece] && pieces[progress.Piece])
                n += TakeFree(progress, peer, destination[n..]);
        }
        // 5. Endgame: blocks already in flight, within the duplicate budget.
        if (n < destination.Length && IsEndgame) n += PickDuplicates(peer, destination[n..]);
        return n;
    }

    /// <summary>
    /// Records a received block. Other peers that were also asked for it (endgame) are written to
    /// <paramref name="cancellations"/> (size it to <see cref="PiecePickerSettings.MaxDuplicateRequests"/>) so the
    /// caller can send them cancel messages.
    /// </summary>
    public BlockOutcome BlockReceived(IPieceRequester peer, BlockRequest block, Span<PeerBlockRequest> cancellations, out int cancellationCount)
    {
        cancellationCount = 0;
        if (!TryLocate(block, out var progress, out var b))
        {
            // A late block (its request timed out and the piece was let go) is still worth keeping.
            if (!IsValidBlock(block, out b) || !_wanted[block.PieceIndex] || _progress[block.PieceIndex] is not null || !CanStart)
                return BlockOutcome.Unexpected;
            progress = Start(block.PieceIndex, peer);
        }
        var slots = progress.Requesters.AsSpan(b * _maxRequesters, _maxRequesters);
        if (progress.State[b] == BlockState.Received)
        {
            RemoveRequester(progress, b, peer);
            return BlockOutcome.Duplicate;
        }
        if (progress.State[b] == BlockState.Free) progress.FreeCount--;
        progress.State[b] = BlockState.Received;
        progress.Deliverers[b] = peer;
        progress.ReceivedCount++;
        for (var k = 0; k < progress.RequesterCount[b]; k++)
        {
            var other = slots[k]!;
            if (!ReferenceEquals(other, peer) && cancellationCount < cancellations.Length)
                cancellations[cancellationCount++] = new PeerBlockRequest(other, block);
        }
        slots.Clear();
        progress.RequestedCount -= progress.RequesterCount[b] > 0 ? 1 : 0;
        progress.RequesterCount[b] = 0;
        return progress.ReceivedCount == progress.BlockCount ? BlockOutcome.PieceComplete : BlockOutcome.Accepted;
    }

    /// <summary>A request to <paramref name="peer"/> was cancelled, rejected or timed out: the block may be picked again.</summary>
    public void ReturnBlock(IPieceRequester peer, BlockRequest block)
    {
        if (!TryLocate(block, out var progress, out var b)) return;
        RemoveRequester(progress, b, peer);
        ReleaseIfUntouched(progress);
    }

    /// <summary>The peer disconnected: every block it was asked for goes back to the pool.</summary>
    public void PeerGone(IPieceRequester peer)
    {
        _current.Remove(peer);
        for (var i = _active.Count - 1; i >= 0; i--)
        {
            var progress = _active[i];
            if (ReferenceEquals(progress.Owner, peer)) progress.Owner = null;
            for (var b = 0; b < progress.BlockCount; b++)
                if (progress.RequesterCount[b] > 0) RemoveRequester(progress, b, peer);
            ReleaseIfUntouched(progress);
        }
    }

    /// <summary>Number of blocks currently requested from <paramref name="peer"/> (a scan of started pieces; for tests and diagnostics).</summary>
    public int CountRequestedFrom(IPieceRequester peer)
    {
        var count = 0;
        foreach (var progress in _active)
            for (var b = 0; b < progress.BlockCount; b++)
                if (progress.State[b] == BlockState.Requested && progress.Requesters.AsSpan(b * _maxRequesters, progress.RequesterCount[b]).Contains(peer))
                    count++;
        return count;
    }

    /// <summary>
    /// The distinct peers that delivered blocks of a started piece (call before <see cref="PieceFailed"/> to
    /// find whom to distrust when its hash does not match). Returns how many were written.
    /// </summary>
    public int GetContributors(int piece, Span<IPieceRequester> destination)
    {
        if ((uint)piece >= (uint)PieceCount || _progress[piece] is not { } progress) return 0;
        var n = 0;
        for (var b = 0; b < progress.BlockCount && n < destination.Length; b++)
            if (progress.Deliverers[b] is { } peer && !destination[..n].Contains(peer)) destination[n++] = peer;
        return n;
    }

    /// <summary>The piece's hash matched: it is ours now.</summary>
    public void PieceVerified(int piece)
    {
        if (_progress[piece] is { } progress) Release(progress);
        Have[piece] = true;
        Availability.Retire(piece);
        SetWanted(piece, false);
    }

    /// <summary>The piece's hash did not match: all its blocks are wanted again.</summary>
    public void PieceFailed(int piece)
    {
        if (_progress[piece] is { } progress) Release(progress);
        else if (_wanted[piece]) SetStartable(piece, true);
    }

    private int PickAllowedFast(IPieceRequester peer, Span<BlockRequest> destination)
    {
        var n = 0;
        foreach (var piece in peer.AllowedFast)
        {
            if (n == destination.Length) break;
            if ((uint)piece >= (uint)PieceCount || !_wanted[piece] || !peer.Pieces[piece]) continue;
            if (_progress[piece] is null && !CanStart) continue;
            var progress = _progress[piece] ?? Start(piece, peer);
            n += TakeFree(progress, peer, destination[n..]);
        }
        return n;
    }

    private int PickDuplicates(IPieceRequester peer, Span<BlockRequest> destination)
    {
        var n = 0;
        var pieces = peer.Pieces;
        for (var i = 0; i < _active.Count && n < destination.Length; i++)
        {
            var progress = _active[i];
            if (!_wanted[progress.Piece] || !pieces[progress.Piece]) continue;
            for (var b = 0; b < progress.BlockCount && n < destination.Length; b++)
            {
                if (progress.State[b] != BlockState.Requested) continue;
                var count = progress.RequesterCount[b];
                if (count >= _maxRequesters) continue;
                var slots = progress.Requesters.AsSpan(b * _maxRequesters, _maxRequesters);
                if (slots[..count].Contains(peer)) continue;
                slots[count] = peer;
                progress.RequesterCount[b] = (byte)(count + 1);
                destination[n++] = BlockAt(progress.Piece, b);
            }
        }
        return n;
    }

    private int TakeFree(PieceProgress progress, IPieceRequester peer, Span<BlockRequest> destination)
    {
        var n = 0;
        for (var b = progress.FirstFreeHint; b < progress.BlockCount && n < destination.Length; b++)
        {
            if (progress.State[b] != BlockState.Free) continue;
            progress.State[b] = BlockState.Requested;
            progress.Requesters[b * _maxRequesters] = peer;
            progress.RequesterCount[b] = 1;
            progress.FreeCount--;
            progress.RequestedCount++;
            progress.FirstFreeHint = b + 1;
            destination[n++] = BlockAt(progress.Piece, b);
        }
        return n;
    }

    private BlockRequest BlockAt(int piece, int block) =>
        new(piece, block * _settings.BlockLength, GetBlockLength(piece, block));

    private void RemoveRequester(PieceProgress progress, int b, IPieceRequester peer)
    {
        var count = progress.RequesterCount[b];
        var slots = progress.Requesters.AsSpan(b * _maxRequesters, _maxRequesters);
        var at = slots[..count].IndexOf(peer);
        if (at < 0) return;
        slots[at] = slots[count - 1];
        slots[count - 1] = null;
        progress.RequesterCount[b] = (byte)(count - 1);
        if (count - 1 == 0 && progress.State[b] == BlockState.Requested)
        {
            progress.State[b] = BlockState.Free;
            progress.FreeCount++;
            progress.RequestedCount--;
            if (b < progress.FirstFreeHint) progress.FirstFreeHint = b;
        }
    }

    private bool TryLocate(BlockRequest block, out PieceProgress progress, out int b)
    {
        progress = null!;
        if (!IsValidBlock(block, out b) || _progress[block.PieceIndex] is not { } p) return false;
        progress = p;
        return true;
    }

    private bool IsValidBlock(BlockRequest block, out int b)
    {
        b = 0;
        if ((uint)block.PieceIndex >= (uint)PieceCount || block.Begin < 0 || block.Begin % _settings.BlockLength != 0) return false;
        b = block.Begin / _settings.BlockLength;
        return b < GetBlockCount(block.PieceIndex) && block.Length == GetBlockLength(block.PieceIndex, b);
    }

    /// <summary>Whether another piece may be started under <see cref="PiecePickerSettings.MaxActivePieces"/>.</summary>
    private bool CanStart => _active.Count < _settings.MaxActivePieces;

    private PieceProgress Start(int piece, IPieceRequester owner)
    {
        var blocks = GetBlockCount(piece);
        var progress = _pool.Count > 0 ? _pool.Pop() : new PieceProgress();
        progress.Reset(piece, blocks, _maxRequesters);
        progress.Owner = owner;
        _current[owner] = progress;
        _progress[piece] = progress;
        _active.Add(progress);
        SetStartable(piece, false);
        return progress;
    }

    private void ReleaseIfUntouched(PieceProgress progress)
    {
        // A piece nobody is fetching and nothing arrived for goes back to the chain, so rarity decides again.
        if (progress.RequestedCount == 0 && progress.ReceivedCount == 0) Release(progress);
    }

    private void Release(PieceProgress progress)
    {
        var piece = progress.Piece;
        _progress[piece] = null;
        _active.Remove(progress);
        progress.Requesters.AsSpan().Clear();
        progress.Deliverers.AsSpan().Clear();
        progress.Owner = null;
        _pool.Push(progress);
        if (_wanted[piece]) SetStartable(piece, true);
    }

    private void RecomputeWanted()
    {
        _wantedCount = 0;
        _startableCount = 0;
        for (var i = 0; i < PieceCount; i++)
        {
            var wanted = !Have[i] && Context.GetPriority(i) != PiecePriority.Skip;
            _wanted[i] = wanted;
            if (wanted) _wantedCount++;
            var startable = wanted && _progress[i] is null;
            _startable[i] = startable;
            if (startable) _startableCount++;
        }
    }

    private void SetWanted(int piece, bool wanted)
    {
        if (_wanted[piece] == wanted) return;
        _wanted[piece] = wanted;
        _wantedCount += wanted ? 1 : -1;
        if (!wanted) SetStartable(piece, false);
        else if (_progress[piece] is null) SetStartable(piece, true);
    }

    private void SetStartable(int piece, bool startable)
    {
        if (_startable[piece] == startable) return;
        _startable[piece] = startable;
        _startableCount += startable ? 1 : -1;
    }

    private enum BlockState : byte
    {
        Free,
        Requested,
        Received,
    }

    private sealed class PieceProgress
    {
        public int Piece;
        public int BlockCount;
        public int FreeCount;
        public int RequestedCount;
        public int ReceivedCount;
        public int FirstFreeHint;
        /// <summary>The peer that started the piece (or took it over); others leave its free blocks alone until step 4.</summary>
        public IPieceRequester? Owner;
        public BlockState[] State = [];
        public byte[] RequesterCount = [];
        public IPieceRequester?[] Requesters = [];
        public IPieceRequester?[] Deliverers = [];

        public void Reset(int piece, int blockCount, int maxRequesters)
        {
            Piece = piece;
            BlockCount = blockCount;
            FreeCount = blockCount;
            RequestedCount = ReceivedCount = FirstFreeHint = 0;
            if (State.Length < blockCount)
            {
                State = new BlockState[blockCount];
                RequesterCount = new byte[blockCount];
                Requesters = new IPieceRequester?[blockCount * maxRequesters];
                Deliverers = new IPieceRequester?[blockCount];
            }
            else
            {
                State.AsSpan(0, blockCount).Clear();
                RequesterCount.AsSpan(0, blockCount).Clear();
                Requesters.AsSpan().Clear();
                Deliverers.AsSpan().Clear();
            }
        }
    }
}
