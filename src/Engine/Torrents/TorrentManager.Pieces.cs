using System.Buffers;
using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.PiecePicking;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Storage.Resume;

namespace TorrentEdge.Engine.Torrents;

public sealed partial class TorrentManager
{
    private bool _checking;

    private void InitialisePieces(TorrentMetainfo m)
    {
        var count = m.PieceCount;
        _have ??= new BitField(count);
        _availability = new int[count];
        _pieceState = new PieceState[count];
        Volatile.Write(ref _active, new ActivePiece?[count]);
        if (_filePriorities.Length != m.Files.Count)
            _filePriorities = Enumerable.Repeat(FilePriority.Normal, m.Files.Count).ToArray();
        _wanted = new bool[count];
        _piecePriority = new PiecePriority[count];
        ComputeWanted();
    }

    private static StorageLayout LayoutOf(TorrentMetainfo m) =>
        StorageLayout.FromMetainfo(m);

    private PiecePriority[] _piecePriority = [];
    private PiecePriority _topPriority = PiecePriority.Normal;

    /// <summary>
    /// Piece priorities from the file priorities (a piece takes the highest of the files it overlaps; padding
    /// files count as skipped), so High pieces are picked before Normal before Low and Skip is never requested.
    /// </summary>
    private void ComputeWanted()
    {
        var m = Metainfo!;
        var files = new (long Offset, long Length)[m.Files.Count];
        var priorities = new PiecePriority[m.Files.Count];
        long offset = 0;
        for (var f = 0; f < m.Files.Count; f++)
        {
            files[f] = (offset, m.Files[f].Length);
            priorities[f] = m.Files[f].IsPadding ? PiecePriority.Skip : (PiecePriority)(byte)_filePriorities[f];
            offset += m.Files[f].Length;
        }
        PiecePriorities.FromFiles(files, priorities, m.PieceLength, _piecePriority);
        _topPriority = PiecePriority.Skip;
        for (var p = 0; p < _piecePriority.Length; p++)
        {
            _wanted[p] = _piecePriority[p] != PiecePriority.Skip;
            if (_piecePriority[p] > _topPriority) _topPriority = _piecePriority[p];
        }
        if (Storage is not null)
            for (var f = 0; f < m.Files.Count; f++)
                Storage.SetSkipped(f, _filePriorities[f] == FilePriority.Skip);
    }

    private void DoSetFilePriorities(FilePriority[] priorities)
    {
        if (Metainfo is null) { _filePriorities = priorities; return; }
        if (priorities.Length != Metainfo.Files.Count) throw new ArgumentException("One priority per file.");
        _filePriorities = priorities;
        ComputeWanted();
        _resumeDirty = true;
        if (_state is TorrentState.Seeding or TorrentState.Finished or TorrentState.Downloading)
            SetState(WantedDone() ? CompleteState() : TorrentState.Downloading);
        foreach (var p in _peers) UpdateInterest(p);
        PublishStatus();
    }

    private bool WantedDone()
    {
        if (_have is null) return false;
        for (var i = 0; i < _wanted.Length; i++)
            if (_wanted[i] && !_have[i]) return false;
        return true;
    }

    /// <summary>
    /// Opens the storage and decides what is on disk: resume data when the trust rule accepts it,
    /// otherwise a full recheck (off the loop).
    /// </summary>
    private void StartCheck(bool forceRecheck)
    {
        if (Metainfo is null || _checking) return;
        _checking = true;
        var m = Metainfo;
        SetState(TorrentState.Checking);
        if (forceRecheck)
        {
            foreach (var p in _peers) p.Close();
        }
        var existing = Storage;
        var priorities = _filePriorities.ToArray();
        var task = Task.Run(async () =>
        {
            TorrentStorage? storage = existing;
            try
            {
                storage ??= new TorrentStorage(LayoutOf(m), SavePath);
                for (var f = 0; f < priorities.Length; f++) storage.SetSkipped(f, priorities[f] == FilePriority.Skip);
                BitField? have = null;
                var fromResume = false;
                if (!forceRecheck && Engine.ResumeStore is { } store)
                {
                    var loaded = await store.LoadAsync(InfoHash.ToHex(), _stopping.Token).ConfigureAwait(false);
                    if (loaded.Data is { } data && data.CheckConsistency(storage).IsTrusted)
                    {
                        have = data.GetBitField();
                        fromResume = true;
                    }
                    if (loaded.Data is { } d2)
                    {
                        _uploadedBase = d2.Uploaded;
                        _downloaded = d2.Downloaded;
                    }
                }
                if (have is null)
                {
                    // Nothing on disk means nothing to hash: skip reading sparse nothing.
                    var anyFile = storage.ObserveFiles().Any(o => o.Exists && o.Size > 0);
                    have = anyFile
                        ? await storage.RecheckAsync(null, Engine.Options.RecheckParallelism, _stopping.Token).ConfigureAwait(false)
                        : new BitField(m.PieceCount);
                }
                Post(new Work(WorkKind.CheckDone, Data: new CheckResult(have, storage, null, fromResume)));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Post(new Work(WorkKind.CheckDone, Data: new CheckResult(new BitField(m.PieceCount), storage!, e.Message)));
            }
        });
        Track(task);
    }

    private void OnCheckDone(CheckResult result)
    {
        _checking = false;
        Storage = result.Storage;
        if (result.Error is not null)
        {
            Fail("checking files failed: " + result.Error);
            return;
        }
        // Active pieces were dropped with the peers; start the piece state afresh from what is on disk.
        foreach (var a in _activeList) ReleaseActive(a);
        _activeList.Clear();
        Array.Clear(_active);
        _have!.CopyFrom(result.Have);
        for (var i = 0; i < _pieceState.Length; i++) _pieceState[i] = _have[i] ? PieceState.Have : PieceState.Missing;
        // Resume data that was just trusted is what a save would write again (one fsync'd save per torrent made
        // starting 1,000 torrents slow); anything learnt from a recheck is saved.
        _resumeDirty = !result.FromResume;
        if (WantedDone() && _completedAt is null) _completedAt = Now;
        if (_userPaused) { SetState(TorrentState.Paused); return; }
        if (!_allowedToRun) { SetState(TorrentState.Queued); return; }
        SetState(WantedDone() ? CompleteState() : TorrentState.Downloading);
        if (_resumeDirty) SaveResume();
        foreach (var p in _peers)
        {
            UpdateInterest(p);
            _needRequests.Add(p);
        }
        ConnectToCandidates();
        StartTrackers();
    }

    // ---- receiving blocks and hashing ----

    private void OnBlockReceived(PeerSession peer, in Work work)
    {
        RemoveOutstanding(peer, work.Index, work.Begin);
        var piece = (ActivePiece)work.Data!;
        if (!ReferenceEquals(GetActivePiece(work.Index), piece)) return;
        var block = work.Begin / ActivePiece.BlockLength;
        peer.LastBlockTicks = Environment.TickCount64;
        if (peer.Snubbed) { peer.Snubbed = false; peer.MaxOutstanding = 16; }
        if (piece.Received[block]) return;
        piece.Received[block] = true;
        piece.ReceivedCount++;
        if (!piece.Contributors.Contains(peer)) piece.Contributors.Add(peer);
        peer.Downloaded += work.Length;
        _downloaded += work.Length;
        Engine.Metrics.BytesDownloaded(work.Length);
        // Endgame: whoever else was asked for this block need not send it.
        var first = piece.RequestedBy[block];
        if (first is not null && first != peer) CancelRequest(first, piece.GetBlock(block));
        piece.RequestedBy[block] = peer;
        if (piece.Duplicates is { Count: > 0 } dups)
        {
            for (var i = dups.Count - 1; i >= 0; i--)
            {
                if (dups[i].Block != block) continue;
                if (dups[i].Peer != peer) CancelRequest(dups[i].Peer, piece.GetBlock(block));
                dups.RemoveAt(i);
            }
        }
        if (piece.ReceivedCount == piece.BlockCount) CompletePiece(piece);
    }

    private void CancelRequest(PeerSession peer, BlockRequest block)
    {
        if (RemoveOutstanding(peer, block.PieceIndex, block.Begin)) peer.Send(PeerMessage.Cancel(block));
    }

    private static bool RemoveOutstanding(PeerSession peer, int index, int begin)
    {
        var list = peer.Outstanding;
        for (var i = 0; i < list.Count; i++)
        {
            if (list[i].PieceIndex == index && list[i].Begin == begin)
            {
                list[i] = list[^1];
                list.RemoveAt(list.Count - 1);
                return true;
            }
        }
        return false;
    }

    private void CompletePiece(ActivePiece piece)
    {
        piece.Seal();
        Volatile.Write(ref _active[piece.Index], null);
        _activeList.Remove(piece);
        _pieceState[piece.Index] = PieceState.Hashing;
        var storage = Storage!;
        var contributors = piece.Contributors.ToArray();
        var offset = (long)piece.Index * Metainfo!.PieceLength;
        var token = _stopping.Token;
        // Hash and write on the thread pool: the loop and the sockets never wait for SHA-1 or the disk.
        var task = Task.Run(async () =>
        {
            string? writeError = null;
            var passed = false;
            try
            {
                passed = storage.VerifyPiece(piece.Index, piece.Buffer.AsSpan(0, piece.Length));
                if (passed) await storage.WriteAsync(offset, piece.Buffer.AsMemory(0, piece.Length), token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                writeError = e.Message;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(piece.Buffer);
            }
            Post(new Work(WorkKind.PieceHashed, Index: piece.Index, Data: new HashResult(passed, contributors, writeError)));
        });
        Track(task);
    }

    private void OnPieceHashed(int index, HashResult result)
    {
        if (_pieceState.Length <= index || _pieceState[index] != PieceState.Hashing) return;
        if (result.WriteError is not null)
        {
            _pieceState[index] = PieceState.Missing;
            Fail("writing failed: " + result.WriteError);
            return;
        }
        if (!result.Passed)
        {
            _pieceState[index] = PieceState.Missing;
            _hashFailures++;
            Engine.Metrics.HashFailed();
            var blamed = result.Contributors.Length == 1 ? result.Contributors[0] : null;
            Engine.Emit(new PieceHashFailedEvent(InfoHash, Now, index, blamed?.Name));
            // One contributor: it sent bad data. Several (endgame): each is suspect, so each gets a strike too;
            // an honest peer rarely shares many failing pieces with a liar.
            foreach (var c in result.Contributors) Strike(c);
            PublishStatus();
            return;
        }
        _pieceState[index] = PieceState.Have;
        _have![index] = true;
        _verifiedBatch.Add(index);
        _resumeDirty = true;
        Engine.Metrics.PieceVerified();
        foreach (var p in _peers)
        {
            p.Send(PeerMessage.Have(index));
            if (p.AmInterested) UpdateInterest(p);
        }
        if (WantedDone() && _state == TorrentState.Downloading)
        {
            _completedAt = Now;
            PublishStatus();
            Engine.Emit(new TorrentCompletedEvent(InfoHash, Now, Status.BytesWanted, _sinceStart.Elapsed));
            SetState(CompleteState());
            _trackers?.MarkCompleted();
            SaveResume();
            _ = Storage!.FlushAsync(CancellationToken.None).AsTask();
        }
    }

    private void ReleaseActive(ActivePiece piece)
    {
        piece.Seal();
        ArrayPool<byte>.Shared.Return(piece.Buffer);
    }

    // ---- picking ----

    /// <summary>Fills the peer's request pipeline up to its adaptive depth.</summary>
    private void RequestMore(PeerSession peer)
    {
        if (_state != TorrentState.Downloading || peer.IsClosed || Storage is null) return;
        if (peer.PeerChoking && peer.AllowedFastFromPeer.Count == 0) return;
        var depth = peer.Snubbed ? 1 : peer.MaxOutstanding;
        while (peer.Outstanding.Count < depth)
        {
            if (!NextBlock(peer, out var block)) break;
            peer.Outstanding.Add(block);
            peer.Send(PeerMessage.Request(block));
        }
    }

    private bool PeerHas(PeerSession peer, int index) =>
        peer.PeerHasAll || (peer.PeerHave is { } h && h[index]);

    private bool CanRequest(PeerSession peer, int index) =>
        !peer.PeerChoking || peer.AllowedFastFromPeer.Contains(index);

    private bool NextBlock(PeerSession peer, out BlockRequest request)
    {
        // 1. Continue pieces this peer owns, then orphaned ones it has.
        foreach (var piece in _activeList)
        {
            if (piece.Owner != peer && piece.Owner is not null && !piece.Owner.IsClosed && !piece.Owner.Snubbed) continue;
            if (!PeerHas(peer, piece.Index) || !CanRequest(peer, piece.Index)) continue;
            if (piece.HasUnrequested(out var b))
            {
                piece.Owner = peer;
                piece.RequestedBy[b] = peer;
                request = piece.GetBlock(b);
                return true;
            }
        }
        // 2. A new piece: rarest first among those the peer has, random among equals.
        var chosen = PickNewPiece(peer);
        if (chosen >= 0)
        {
            var piece = new ActivePiece(chosen, Metainfo!.GetPieceLength(chosen)) { Owner = peer };
            _pieceState[chosen] = PieceState.Active;
            _activeList.Add(piece);
            Volatile.Write(ref _active[chosen], piece);
            piece.RequestedBy[0] = peer;
            request = piece.GetBlock(0);
            return true;
        }
        // 3. Endgame: nothing left unrequested, so ask this peer too for blocks still in flight elsewhere.
        foreach (var piece in _activeList)
        {
            if (!PeerHas(peer, piece.Index) || !CanRequest(peer, piece.Index)) continue;
            for (var b = 0; b < piece.BlockCount; b++)
            {
                if (piece.Received[b] || piece.RequestedBy[b] == peer) continue;
                piece.Duplicates ??= [];
                var already = 0;
                var mine = false;
                foreach (var d in piece.Duplicates)
                {
                    if (d.Block != b) continue;
                    already++;
                    if (d.Peer == peer) mine = true;
                }
                if (mine || already >= 1) continue;
                piece.Duplicates.Add((b, peer));
                request = piece.GetBlock(b);
                return true;
            }
        }
        request = default;
        return false;
    }

    private int PickNewPiece(PeerSession peer)
    {
        var count = _pieceState.Length;
        if (count == 0) return -1;
        var best = -1;
        var bestAvail = int.MaxValue;
        var bestPriority = PiecePriority.Skip;
        var start = Sequential ? 0 : _random.Next(count);
        // The first few pieces are random so a new peer soon has something to trade.
        var randomFirst = _have!.TrueCount < 4 || Sequential;
        for (var k = 0; k < count; k++)
        {
            var i = start + k;
            if (i >= count) i -= count;
            if (_pieceState[i] != PieceState.Missing || !_wanted[i] || !PeerHas(peer, i) || !CanRequest(peer, i)) continue;
            // Highest priority first; within it rarest first (the first random one while we have few pieces; in order when sequential).
            var priority = _piecePriority[i];
            var a = randomFirst ? 0 : _availability[i];
            if (priority > bestPriority || (priority == bestPriority && a < bestAvail))
            {
                best = i;
                bestPriority = priority;
                bestAvail = a;
                if (priority == _topPriority && a <= (randomFirst ? 0 : 1)) break;
            }
        }
        return best;
    }

    /// <summary>Gives the peer's requests back to the pool (it choked us, went away or is snubbed).</summary>
    private void ReleaseRequests(PeerSession peer)
    {
        foreach (var block in peer.Outstanding)
        {
            var piece = GetActivePiece(block.PieceIndex);
            if (piece is null) continue;
            var b = block.Begin / ActivePiece.BlockLength;
            if (piece.RequestedBy[b] == peer && !piece.Received[b]) piece.RequestedBy[b] = null;
            piece.Duplicates?.RemoveAll(d => d.Peer == peer);
        }
        peer.Outstanding.Clear();
        foreach (var piece in _activeList)
        {
            if (piece.Owner == peer) piece.Owner = null;
        }
    }

    // ---- resume data ----

    private void SaveResume()
    {
        if (Engine.ResumeStore is not { } store || Storage is null || _have is null || Metainfo is null) return;
        _resumeDirty = false;
        _lastResumeSaveTicks = Environment.TickCount64;
        var storage = Storage;
        var have = _have.Clone();
        var priorities = _filePriorities.ToArray();
        var downloaded = _downloaded;
        var uploaded = Status.Uploaded;
        var paused = _userPaused;
        var queuePriority = QueuePriority;
        var completedAt = _completedAt;
        var addedAt = AddedAt;
        var savePath = SavePath;
        var infoHash = InfoHash.ToHex();
        // Flush first so the sizes and times recorded are those of data that is really on disk.
        var task = Task.Run(async () =>
        {
            try
            {
                await storage.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                var data = ResumeData.Create(infoHash, have, storage.ObserveFiles(), priorities) with
                {
                    SavePath = savePath,
                    Downloaded = downloaded,
                    Uploaded = uploaded,
                    Paused = paused,
                    QueuePriority = queuePriority,
                    CompletedAt = completedAt,
                    AddedAt = addedAt,
                };
                await store.SaveAsync(data, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                // The next save tries again; a restart without resume data rechecks.
            }
        });
        Track(task);
    }
}
