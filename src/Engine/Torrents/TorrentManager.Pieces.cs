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
    private readonly PieceTracker _pieces = new();

    private void InitialisePieces(TorrentMetainfo m)
    {
        _pieces.Initialise(m.PieceCount, m.PieceLength, Host.Options.MaxActivePieceBytes);
        if (_filePriorities.Length != m.Files.Count)
            _filePriorities = Enumerable.Repeat(FilePriority.Normal, m.Files.Count).ToArray();
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
        var settings = new PiecePickerSettings { Sequential = Sequential, MaxActivePieces = _pieces.MaxActivePieces };
        _picker = new PiecePicker(m.TotalLength, m.PieceLength, settings, _pieces.Have, _random);
        _picker.SetPriorities(_pieces.Priorities);
        foreach (var p in _peers)
        {
            EnsurePeerHave(p);
            CountAvailability(p);
        }
    }

    private static StorageLayout LayoutOf(TorrentMetainfo m) =>
        StorageLayout.FromMetainfo(m);

    /// <summary>Wanted pieces and piece priorities from the file priorities, for the picker and the storage.</summary>
    private void ComputeWanted()
    {
        var m = Metainfo!;
        _pieces.ComputeWanted(m, _filePriorities);
        _picker?.SetPriorities(_pieces.Priorities);
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
        _resumeSchedule.MarkDirty();
        if (_state is TorrentState.Seeding or TorrentState.Finished or TorrentState.Downloading)
            SetState(WantedDone() ? CompleteState() : TorrentState.Downloading);
        foreach (var p in _peers) UpdateInterest(p);
        PublishStatus();
    }

    private bool WantedDone() => _pieces.WantedDone();

    /// <summary>
    /// Opens the storage and decides what is on disk: resume data when the trust rule accepts it,
    /// otherwise a full recheck (off the loop).
    /// </summary>
    private void StartCheck(bool forceRecheck)
    {
        if (Metainfo is null || _checking) return;
        _checking = true;
        _pieces.HaveChecked = false;
        var m = Metainfo;
        SetState(TorrentState.Checking);
        if (forceRecheck)
        {
            foreach (var p in _peers) p.Close();
            // A recheck that is interrupted must happen again at the next start, not be skipped by
            // trusting the resume data it was asked to distrust. Queued behind any save in flight.
            if (Host.ResumeStore is { } resumeStore)
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
        var stores = Host.PieceStores;
        var resumes = Host.ResumeStore;
        var parallelism = Host.Options.RecheckParallelism;
        var infoHash = InfoHash.ToHex();
        var savePath = SavePath;
        var fenced = Host.Options.StorageFence is not null;
        var token = _stopping.Token;
        // Off the loop, this task reads only what was copied above and writes nothing of the torrent's: everything it
        // learns goes back to the loop in one CheckDoneMessage (the loop is the only writer of its fields).
        var task = Task.Run(async () =>
        {
            IPieceStore? storage = existing;
            try
            {
                storage ??= stores.Open(LayoutOf(m), savePath, fenced ? () => MayWrite : null);
                for (var f = 0; f < priorities.Length; f++) storage.SetSkipped(f, priorities[f] == FilePriority.Skip);
                BitField? have = null;
                var fromResume = false;
                ResumeCounters? counters = null;
                BitField? savedHave = null;
                if (!forceRecheck && resumes is not null)
                {
                    var loaded = await resumes.LoadAsync(infoHash, token).ConfigureAwait(false);
                    if (loaded.Data is { } data && data.CheckConsistency(storage.Layout, storage.ObserveFiles()).IsTrusted)
                    {
                        have = data.GetBitField();
                        fromResume = true;
                    }
                    // Counters carry over whatever the files' state, so seed ratio and seed time limits hold across restarts.
                    if (loaded.Data is { } d2)
                    {
                        counters = new ResumeCounters(d2.Uploaded, d2.Downloaded, d2.SeedingTime, d2.CompletedAt);
                        savedHave = d2.GetBitField();
                    }
                }
                if (have is null)
                {
                    // Nothing on disk means nothing to hash: skip reading sparse nothing.
                    var anyFile = storage.ObserveFiles().Any(o => o.Exists && o.Size > 0);
                    have = anyFile
                        ? await storage.RecheckAsync(null, parallelism, token).ConfigureAwait(false)
                        : new BitField(m.PieceCount);
                    if (counters is { } c && savedHave is not null)
                    {
                        counters = c with { Downloaded = c.Downloaded + VerifiedSinceSave(storage.Layout, have, savedHave) };
                    }
                }
                Post(new CheckDoneMessage(have, storage, null, fromResume, counters));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                Post(new CheckDoneMessage(new BitField(m.PieceCount), storage, e.Message));
            }
        });
        Track(task);
    }

    /// <summary>
    /// The bytes of the pieces on disk that the resume data did not list. An owner that wrote files after its last save
    /// counted their download only in memory (a kill -9, or a replica that lost the torrent, loses that count); the
    /// recheck finds the pieces, so they are not fetched again, and without this the downloaded counter (the statistics
    /// built on it) would fall short of what came off the wire by up to a save interval of traffic.
    /// </summary>
    internal static long VerifiedSinceSave(StorageLayout layout, BitField have, BitField saved)
    {
        if (saved.Length != have.Length) return 0;
        long bytes = 0;
        for (var i = have.NextSet(0); i >= 0 && i < have.Length; i = have.NextSet(i + 1))
        {
            if (!saved[i]) bytes += layout.GetPieceLength(i);
        }
        return bytes;
    }

    private void OnCheckDone(CheckDoneMessage result)
    {
        _checking = false;
        Storage = result.Storage;
        if (result.Counters is { } counters)
        {
            _uploadedBase = counters.Uploaded;
            _downloaded = counters.Downloaded;
            Interlocked.Exchange(ref _seedMilliseconds, (long)counters.SeedingTime.TotalMilliseconds);
            _restoredCompletedAt = counters.CompletedAt;
        }
        if (result.Error is not null)
        {
            Fail("checking files failed: " + result.Error);
            return;
        }
        // Start the piece state afresh from what is on disk.
        _pieces.LoadChecked(result.Have);
        ResetPicker();
        // Resume data that was just trusted is what a save would write again (one fsync'd save per torrent made
        // starting 1,000 torrents slow); anything learnt from a recheck is saved.
        if (result.FromResume) _resumeSchedule.MarkClean();
        else _resumeSchedule.MarkDirty();
        if (WantedDone() && _completedAt is null) _completedAt = _restoredCompletedAt ?? Now;
        if (_userPaused) { SetState(TorrentState.Paused); return; }
        if (!_allowedToRun) { SetState(TorrentState.Queued); return; }
        SetState(WantedDone() ? CompleteState() : TorrentState.Downloading);
        if (_resumeSchedule.IsDirty) SaveResume();
        foreach (var p in _peers)
        {
            UpdateInterest(p);
            _needRequests.Add(p);
        }
        ConnectToCandidates();
        StartTrackers();
    }

    // ---- receiving blocks and hashing ----

    private void OnBlockReceived(PeerSession peer, in PeerEvent work)
    {
        var block = new BlockRequest(work.Index, work.Begin, work.Length);
        var requested = peer.Outstanding.Remove(block, out var sentAt);
        var piece = work.Piece!;
        if (_picker is not { } picker) return;
        if (!ReferenceEquals(GetActivePiece(work.Index), piece))
        {
            // Copied into a buffer already let go: as good as dropped.
            if (requested) picker.ReturnBlock(peer, block);
            return;
        }
        if (requested) peer.QueueDepth?.BlockReceived(work.Length, Host.TimeProvider.GetElapsedTime(sentAt));
        peer.LastBlockAt = Host.TimeProvider.GetTimestamp();
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
        Host.Metrics.BytesDownloaded(work.Length);
        if (outcome == BlockOutcome.PieceComplete) CompletePiece(piece);
    }

    private void OnBlockDropped(PeerSession peer, in PeerEvent work)
    {
        var block = new BlockRequest(work.Index, work.Begin, work.Length);
        if (!peer.Outstanding.Remove(block, out _)) return;
        _picker?.ReturnBlock(peer, block);
        _needRequests.Add(peer);
    }

    private void CompletePiece(ActivePiece piece)
    {
        _pieces.StartHashing(piece);
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
                var data = piece.Data;
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
            Post(new PieceHashedMessage(piece.Index, passed, contributors, writeError));
        });
        Track(task);
    }

    private void OnPieceHashed(PieceHashedMessage result)
    {
        var index = result.Index;
        if (_pieces.States.Length <= index || _pieces.States[index] != PieceState.Hashing) return;
        if (result.WriteError is not null)
        {
            _pieces.States[index] = PieceState.Missing;
            Fail("writing failed: " + result.WriteError);
            return;
        }
        if (!result.Passed)
        {
            _pieces.States[index] = PieceState.Missing;
            _picker?.PieceFailed(index);
            _hashFailures++;
            Host.Metrics.HashFailed();
            var blamed = result.Contributors.Length == 1 ? result.Contributors[0] : null;
            Host.Emit(new PieceHashFailedEvent(InfoHash, Now, index, blamed?.Name));
            // One contributor: it sent bad data. Several (endgame): each is suspect, so each gets a strike too;
            // an honest peer rarely shares many failing pieces with a liar.
            foreach (var c in result.Contributors) Strike(c, StrikeReason.PieceHashFailed);
            PublishStatus();
            return;
        }
        _pieces.States[index] = PieceState.Have;
        _picker?.PieceVerified(index);
        _pieces.Have![index] = true;
        _verifiedBatch.Add(index);
        _resumeSchedule.MarkDirty();
        Host.Metrics.PieceVerified();
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
            Host.Emit(new TorrentCompletedEvent(InfoHash, Now, Status.BytesWanted, _sinceStart.Elapsed));
            SetState(CompleteState());
            _announcer?.MarkCompleted();
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
        if (Storage is not { } storage || _pieces.Have is null || (uint)index >= (uint)_pieces.States.Length || _pieces.States[index] != PieceState.Have) return;
        _pieces.States[index] = PieceState.Hashing;
        _pieces.Have[index] = false;
        Host.Emit(new PieceReadFailedEvent(InfoHash, Now, index));
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
            Post(new PieceRecheckedMessage(index, passed));
        }, CancellationToken.None));
    }

    /// <summary>The verdict on a piece a read failed for: ours again if it still hashes right, else downloaded again.</summary>
    private void OnPieceRechecked(int index, bool passed)
    {
        if (_pieces.Have is null || (uint)index >= (uint)_pieces.States.Length || _pieces.States[index] != PieceState.Hashing) return;
        if (passed)
        {
            _pieces.States[index] = PieceState.Have;
            _pieces.Have[index] = true;
            return;
        }
        _pieces.States[index] = PieceState.Missing;
        _resumeSchedule.MarkDirty();
        // The picker's idea of what is wanted comes from the have-set it was built over: build it again.
        _pieces.ReleaseAll();
        ResetPicker();
        if (_state is TorrentState.Seeding or TorrentState.Finished && _pieces.Wanted[index] && !_seedLimitReached)
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


    // ---- picking ----

    private static readonly RequestQueueDepthOptions QueueDepthOptions = new()
    {
        MinDepth = 16,
        MaxDepth = MaxRequestDepth,
        InitialDepth = 32,
        MinQueueTime = TimeSpan.FromMilliseconds(500),
        SlowStart = true,
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
        if (_pieces.ActiveList.Count >= _pieces.MaxActivePieces) SweepActivePieces();
        var n = picker.PickBlocks(peer, _picked.AsSpan(0, room));
        if (n == 0) return;
        var now = Host.TimeProvider.GetTimestamp();
        // The snub clock starts when the peer has something to answer, not at the last block long ago.
        if (peer.Outstanding.Count == 0) peer.LastBlockAt = now;
        for (var i = 0; i < n; i++)
        {
            var block = _picked[i];
            _pieces.Activate(block.PieceIndex, picker.GetPieceLength(block.PieceIndex), Storage?.Layout);
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

    // ---- resume data ----

    /// <summary>Whether the host's <see cref="IStorageFence"/> still lets this engine write the torrent's files and resume data.</summary>
    internal bool MayWrite => Host.Options.StorageFence?.MayWrite(InfoHash) ?? true;

    private void SaveResume()
    {
        if (Host.ResumeStore is not { } store || Storage is null || _pieces.Have is null || Metainfo is null) return;
        // Until a check has finished, or after one failed, the have-set is not what is on disk: saving it (on a
        // stop or pause mid-check, or from Fail) would record verified pieces as missing, and the next start
        // would trust that and download them again.
        if (!_pieces.HaveChecked) return;
        _resumeSchedule.Saved();
        var storage = Storage;
        var have = _pieces.Have.Clone();
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
