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
    private DateTimeOffset? _restoredCompletedAt;
    private Task _resumeSave = Task.CompletedTask;
    private bool _haveChecked; // _have reflects a check that finished

    private void InitialisePieces(TorrentMetainfo m)
    {
        var count = m.PieceCount;
        _have ??= new BitField(count);
        _pieceState = new PieceState[count];
        Volatile.Write(ref _active, new ActivePiece?[count]);
        if (_filePriorities.Length != m.Files.Count)
            _filePriorities = Enumerable.Repeat(FilePriority.Normal, m.Files.Count).ToArray();
        _wanted = new bool[count];
        _piecePriority = new PiecePriority[count];
        ComputeWanted();
        ResetPicker();
    }

    /// <summary>
    /// A fresh picker over what we have now (after the metadata arrives and after each file check), with the
    /// piece priorities and every connected peer's pieces counted again. Requests in flight are forgotten: a
    /// block that still arrives finds no buffer and is dropped.
    /// </summary>
    private void ResetPicker()
    {
        var m = Metainfo!;
        foreach (var p in _peers)
        {
            p.Outstanding.Clear();
            p.CountedAvailability = false;
        }
        // The memory cap in whole pieces, never below one so a torrent with huge pieces still downloads.
        _maxActivePieces = (int)Math.Clamp(Engine.Options.MaxActivePieceBytes / m.PieceLength, 1, int.MaxValue);
        var settings = new PiecePickerSettings { Sequential = Sequential, MaxActivePieces = _maxActivePieces };
        _picker = new PiecePicker(m.TotalLength, m.PieceLength, settings, _have, _random);
        _picker.SetPriorities(_piecePriority);
        foreach (var p in _peers)
        {
            EnsurePeerHave(p);
            CountAvailability(p);
        }
    }

    private static StorageLayout LayoutOf(TorrentMetainfo m) =>
        StorageLayout.FromMetainfo(m);

    private PiecePriority[] _piecePriority = [];
    private int _maxActivePieces = int.MaxValue;
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
        _picker?.SetPriorities(_piecePriority);
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
        _haveChecked = false;
        var m = Metainfo;
        SetState(TorrentState.Checking);
        if (forceRecheck)
        {
            foreach (var p in _peers) p.Close();
            // A recheck that is interrupted must happen again at the next start, not be skipped by
            // trusting the resume data it was asked to distrust. Queued behind any save in flight.
            if (Engine.ResumeStore is { } resumeStore)
            {
                var hex = InfoHash.ToHex();
                QueueResumeWrite(() =>
                {
                    resumeStore.Delete(hex);
                    return Task.CompletedTask;
                });
            }
        }
        var existing = Storage;
        var priorities = _filePriorities.ToArray();
        var task = Task.Run(async () =>
        {
            TorrentStorage? storage = existing;
            try
            {
                storage ??= new TorrentStorage(LayoutOf(m), SavePath, Engine.Options.StorageFence is null ? Engine.StorageOptions : Engine.StorageOptions with { MayWrite = () => MayWrite });
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
                        // Counters carry over whatever the files' state, so seed ratio and seed time limits hold across restarts.
                        _uploadedBase = d2.Uploaded;
                        _downloaded = d2.Downloaded;
                        Interlocked.Exchange(ref _seedMilliseconds, (long)d2.SeedingTime.TotalMilliseconds);
                        _restoredCompletedAt = d2.CompletedAt;
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
        _haveChecked = true;
        // Start the piece state afresh from what is on disk.
        foreach (var a in _activeList) ReleaseActive(a);
        _activeList.Clear();
        Array.Clear(_active);
        _have!.CopyFrom(result.Have);
        for (var i = 0; i < _pieceState.Length; i++) _pieceState[i] = _have[i] ? PieceState.Have : PieceState.Missing;
        ResetPicker();
        // Resume data that was just trusted is what a save would write again (one fsync'd save per torrent made
        // starting 1,000 torrents slow); anything learnt from a recheck is saved.
        _resumeDirty = !result.FromResume;
        if (WantedDone() && _completedAt is null) _completedAt = _restoredCompletedAt ?? Now;
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
        var block = new BlockRequest(work.Index, work.Begin, work.Length);
        var requested = peer.Outstanding.Remove(block, out var sentAt);
        var piece = (ActivePiece)work.Data!;
        if (_picker is not { } picker) return;
        if (!ReferenceEquals(GetActivePiece(work.Index), piece))
        {
            // Copied into a buffer already let go: as good as dropped.
            if (requested) picker.ReturnBlock(peer, block);
            return;
        }
        if (requested) peer.QueueDepth?.BlockReceived(work.Length, Engine.TimeProvider.GetElapsedTime(sentAt));
        peer.LastBlockAt = Engine.TimeProvider.GetTimestamp();
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
        _downloaded += work.Length;
        Engine.Metrics.BytesDownloaded(work.Length);
        if (outcome == BlockOutcome.PieceComplete) CompletePiece(piece);
    }

    private void OnBlockDropped(PeerSession peer, in Work work)
    {
        var block = new BlockRequest(work.Index, work.Begin, work.Length);
        if (!peer.Outstanding.Remove(block, out _)) return;
        _picker?.ReturnBlock(peer, block);
        _needRequests.Add(peer);
    }

    private void CompletePiece(ActivePiece piece)
    {
        piece.Seal();
        Volatile.Write(ref _active[piece.Index], null);
        _activeList.Remove(piece);
        _pieceState[piece.Index] = PieceState.Hashing;
        var storage = Storage!;
        var contributorCount = _picker!.GetContributors(piece.Index, _contributors);
        var contributors = new PeerSession[contributorCount];
        for (var i = 0; i < contributorCount; i++) contributors[i] = (PeerSession)_contributors[i];
        _contributors.AsSpan().Clear();
        var offset = (long)piece.Index * Metainfo!.PieceLength;
        var token = _stopping.Token;
        // Hash and write on the thread pool: the loop and the sockets never wait for SHA-1 or the disk.
        var task = Task.Run(() =>
        {
            string? writeError = null;
            var passed = false;
            try
            {
                var data = piece.Buffer.Span[..piece.Length];
                passed = storage.VerifyPiece(piece.Index, data);
                token.ThrowIfCancellationRequested();
                if (passed) storage.Write(offset, data);
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
                AlignedBufferPool.Shared.Return(piece.Buffer);
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
            _picker?.PieceFailed(index);
            _hashFailures++;
            Engine.Metrics.HashFailed();
            var blamed = result.Contributors.Length == 1 ? result.Contributors[0] : null;
            Engine.Emit(new PieceHashFailedEvent(InfoHash, Now, index, blamed?.Name));
            // One contributor: it sent bad data. Several (endgame): each is suspect, so each gets a strike too;
            // an honest peer rarely shares many failing pieces with a liar.
            foreach (var c in result.Contributors) Strike(c, StrikeReason.PieceHashFailed);
            PublishStatus();
            return;
        }
        _pieceState[index] = PieceState.Have;
        _picker?.PieceVerified(index);
        _have![index] = true;
        _verifiedBatch.Add(index);
        _resumeDirty = true;
        Engine.Metrics.PieceVerified();
        foreach (var p in _peers)
        {
            p.Send(PeerMessage.Have(index));
            // Only a peer that had this piece can have become uninteresting.
            if (p.AmInterested && p.PeerHave is { } h && h[index]) UpdateInterest(p);
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

    /// <summary>
    /// A piece we have could not be read whole (its file was truncated, deleted or replaced by a link): it stops
    /// being served at once, and is hashed again on disk off the loop.
    /// </summary>
    private void OnReadFailed(int index)
    {
        if (Storage is not { } storage || _have is null || (uint)index >= (uint)_pieceState.Length || _pieceState[index] != PieceState.Have) return;
        _pieceState[index] = PieceState.Hashing;
        _have[index] = false;
        Engine.Emit(new PieceReadFailedEvent(InfoHash, Now, index));
        var token = _stopping.Token;
        Track(Task.Run(async () =>
        {
            bool passed;
            try
            {
                passed = await storage.VerifyPieceOnDiskAsync(index, token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                passed = false;
            }
            catch (OperationCanceledException)
            {
                return;
            }
            Post(new Work(WorkKind.PieceRechecked, Index: index, Data: passed));
        }, CancellationToken.None));
    }

    /// <summary>The verdict on a piece a read failed for: ours again if it still hashes right, else downloaded again.</summary>
    private void OnPieceRechecked(int index, bool passed)
    {
        if (_have is null || (uint)index >= (uint)_pieceState.Length || _pieceState[index] != PieceState.Hashing) return;
        if (passed)
        {
            _pieceState[index] = PieceState.Have;
            _have[index] = true;
            return;
        }
        _pieceState[index] = PieceState.Missing;
        _resumeDirty = true;
        // The picker's idea of what is wanted comes from the have-set it was built over: build it again.
        foreach (var a in _activeList) ReleaseActive(a);
        _activeList.Clear();
        Array.Clear(_active);
        ResetPicker();
        if (_state is TorrentState.Seeding or TorrentState.Finished && _wanted[index] && !_seedLimitReached)
        {
            _completedAt = null;
            SetState(TorrentState.Downloading);
        }
        foreach (var p in _peers)
        {
            UpdateInterest(p);
            _needRequests.Add(p);
        }
        PublishStatus();
    }

    private void ReleaseActive(ActivePiece piece)
    {
        piece.Seal();
        AlignedBufferPool.Shared.Return(piece.Buffer);
    }

    // ---- picking ----

    private static readonly RequestQueueDepthOptions QueueDepthOptions = new()
    {
        MinDepth = 16,
        MaxDepth = MaxRequestDepth,
        InitialDepth = 32,
        MinQueueTime = TimeSpan.FromMilliseconds(500),
    };

    private const int MaxRequestDepth = 500;
    private PiecePicker? _picker;
    private readonly BlockRequest[] _picked = new BlockRequest[MaxRequestDepth];
    private readonly PeerBlockRequest[] _cancellations = new PeerBlockRequest[PiecePickerSettings.Default.MaxDuplicateRequests + 1];
    private readonly IPieceRequester[] _contributors = new IPieceRequester[64];

    /// <summary>
    /// Under a download limit a peer may have at most one second of the limited rate outstanding: what is
    /// requested arrives whether or not the limiter lets us read it yet, so a deeper pipeline is a burst.
    /// </summary>
    private int DownloadLimitDepth()
    {
        var torrent = DownloadLimiter.Torrent.BytesPerSecond;
        var global = DownloadLimiter.Global.BytesPerSecond;
        var rate = torrent == 0 ? global : global == 0 ? torrent : Math.Min(torrent, global);
        return rate == 0 ? int.MaxValue : (int)Math.Max(1, rate / BlockRequest.StandardBlockLength);
    }

    /// <summary>Fills the peer's request pipeline up to its adaptive depth with blocks the picker chooses.</summary>
    private void RequestMore(PeerSession peer)
    {
        if (_state != TorrentState.Downloading || peer.IsClosed || Storage is null || _picker is not { } picker || peer.PeerHave is null) return;
        if (peer.PeerChoking && peer.AllowedFastFromPeer.Count == 0) return;
        var room = Math.Min(Math.Min(peer.Snubbed ? 1 : peer.RequestDepth, DownloadLimitDepth()) - peer.Outstanding.Count, _picked.Length);
        if (room <= 0) return;
        // Buffers of pieces the picker let go are otherwise returned on the next tick; at the cap they go now, so
        // what the loop holds stays within the cap too.
        if (_activeList.Count >= _maxActivePieces) SweepActivePieces();
        var n = picker.PickBlocks(peer, _picked.AsSpan(0, room));
        if (n == 0) return;
        var now = Engine.TimeProvider.GetTimestamp();
        // The snub clock starts when the peer has something to answer, not at the last block long ago.
        if (peer.Outstanding.Count == 0) peer.LastBlockAt = now;
        for (var i = 0; i < n; i++)
        {
            var block = _picked[i];
            if (GetActivePiece(block.PieceIndex) is null)
            {
                var piece = new ActivePiece(block.PieceIndex, picker.GetPieceLength(block.PieceIndex), BlockRequest.StandardBlockLength);
                _activeList.Add(piece);
                Volatile.Write(ref _active[block.PieceIndex], piece);
            }
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
        for (var i = _activeList.Count - 1; i >= 0; i--)
        {
            var piece = _activeList[i];
            if (picker.IsStarted(piece.Index)) continue;
            Volatile.Write(ref _active[piece.Index], null);
            _activeList.RemoveAt(i);
            ReleaseActive(piece);
        }
    }

    // ---- resume data ----

    /// <summary>Whether the host's <see cref="IStorageFence"/> still lets this engine write the torrent's files and resume data.</summary>
    internal bool MayWrite => Engine.Options.StorageFence?.MayWrite(InfoHash) ?? true;

    private void SaveResume()
    {
        if (Engine.ResumeStore is not { } store || Storage is null || _have is null || Metainfo is null) return;
        // Until a check has finished, or after one failed, the have-set is not what is on disk: saving it (on a
        // stop or pause mid-check, or from Fail) would record verified pieces as missing, and the next start
        // would trust that and download them again.
        if (!_haveChecked) return;
        _resumeDirty = false;
        _lastResumeSaveTicks = Engine.TimeProvider.NowMilliseconds();
        var storage = Storage;
        var have = _have.Clone();
        var priorities = _filePriorities.ToArray();
        var downloaded = _downloaded;
        var uploaded = UploadedNow(); // not the last snapshot, which may be a second old
        var paused = _userPaused;
        var queuePriority = QueuePriority;
        var completedAt = _completedAt;
        var addedAt = AddedAt;
        var seedingTime = SeedTime;
        var savePath = SavePath;
        var infoHash = InfoHash.ToHex();
        // Flush first so the sizes and times recorded are those of data that is really on disk.
        QueueResumeWrite(async () =>
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
                SeedingTime = seedingTime,
            };
            await store.SaveAsync(data, CancellationToken.None).ConfigureAwait(false);
        });
    }

    /// <summary>
    /// Runs a write to the resume store off the loop, after the one before it: writes run one after another, so
    /// a slow earlier save never lands over a later save or delete.
    /// </summary>
    private void QueueResumeWrite(Func<Task> write)
    {
        var previous = _resumeSave;
        var task = Task.Run(async () =>
        {
            await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            // A fenced engine leaves the resume data to the torrent's new holder: saving ours would roll theirs back.
            if (!MayWrite) return;
            try
            {
                await write().ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                // The next save tries again; a restart without resume data rechecks.
            }
        });
        _resumeSave = task;
        Track(task);
    }
}
