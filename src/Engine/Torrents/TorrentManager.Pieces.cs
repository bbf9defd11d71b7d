using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Metainfo;
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
        _exchange.ResetPicker();
    }

    private static StorageLayout LayoutOf(TorrentMetainfo m) =>
        StorageLayout.FromMetainfo(m);

    /// <summary>Wanted pieces and piece priorities from the file priorities, for the picker and the storage.</summary>
    private void ComputeWanted()
    {
        var m = Metainfo!;
        _pieces.ComputeWanted(m, _filePriorities);
        _exchange.PrioritiesChanged();
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
        _exchange.UpdateInterestAll();
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
        _exchange.ResetPicker();
        // Resume data that was just trusted is what a save would write again (one fsync'd save per torrent made
        // starting 1,000 torrents slow); anything learnt from a recheck is saved.
        if (result.FromResume) _resumeSchedule.MarkClean();
        else _resumeSchedule.MarkDirty();
        if (WantedDone() && _completedAt is null) _completedAt = _restoredCompletedAt ?? Now;
        if (_userPaused) { SetState(TorrentState.Paused); return; }
        if (!_allowedToRun) { SetState(TorrentState.Queued); return; }
        SetState(WantedDone() ? CompleteState() : TorrentState.Downloading);
        if (_resumeSchedule.IsDirty) SaveResume();
        _exchange.RefreshAll();
        ConnectToCandidates();
        StartTrackers();
    }

    // ---- receiving blocks and hashing ----

    TorrentMetainfo? IBlockExchangeOwner.Metainfo => Metainfo;

    TorrentState IBlockExchangeOwner.State => _state;

    bool IBlockExchangeOwner.StorageOpen => Storage is not null;

    void IBlockExchangeOwner.BlockDownloaded(int length)
    {
        _downloaded += length;
        Host.Metrics.BytesDownloaded(length);
    }

    void IBlockExchangeOwner.PieceCompleted(ActivePiece piece) => CompletePiece(piece);

    private void CompletePiece(ActivePiece piece)
    {
        _pieces.StartHashing(piece);
        var storage = Storage!;
        var contributors = _exchange.TakeContributors(piece.Index);
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
            _exchange.PieceFailed(index);
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
        _exchange.PieceVerified(index);
        _pieces.Have![index] = true;
        _verifiedBatch.Add(index);
        _resumeSchedule.MarkDirty();
        Host.Metrics.PieceVerified();
        _exchange.AnnounceHave(index);
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
        _exchange.ResetPicker();
        if (_state is TorrentState.Seeding or TorrentState.Finished && _pieces.Wanted[index] && !_seedLimitReached)
        {
            _completedAt = null;
            SetState(TorrentState.Downloading);
        }
        _exchange.RefreshAll();
        PublishStatus();
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
