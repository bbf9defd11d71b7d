using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Storage;

namespace TorrentEdge.Engine.Torrents;

public sealed partial class TorrentManager
{
    private DateTimeOffset? _restoredCompletedAt;
    private readonly PieceTracker _pieces = new();

    private void InitialisePieces(TorrentMetainfo m)
    {
        _pieces.Initialise(m.PieceCount, m.PieceLength, Host.Options.MaxActivePieceBytes);
        if (_filePriorities.Length != m.Files.Count)
            _filePriorities = Enumerable.Repeat(FilePriority.Normal, m.Files.Count).ToArray();
        ComputeWanted();
        _exchange.ResetPicker();
    }

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
        if (_lifecycle.IsSeeding || _lifecycle.IsDownloading)
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
        if (Metainfo is null || _lifecycle.Checking) return;
        _lifecycle.Checking = true;
        _pieces.HaveChecked = false;
        var m = Metainfo;
        SetState(TorrentState.Checking);
        if (forceRecheck)
        {
            foreach (var p in _peers) p.Close();
            // A recheck that is interrupted must happen again at the next start, not be skipped by
            // trusting the resume data it was asked to distrust. Queued behind any save in flight.
            if (Host.ResumeStore is { } resumeStore) _storageWork.DeleteResume(resumeStore, InfoHash.ToHex());
        }
        // Off the loop, the check reads only what is copied here and writes nothing of the torrent's: everything it
        // learns goes back to the loop in one CheckDoneMessage (the loop is the only writer of its fields).
        _storageWork.StartCheck(new CheckRequest(m, Storage, _filePriorities.ToArray(), Host.PieceStores, Host.ResumeStore,
            Host.Options.RecheckParallelism, InfoHash.ToHex(), SavePath, Host.Options.StorageFence is not null ? () => MayWrite : null,
            forceRecheck));
    }

    private void OnCheckDone(CheckDoneMessage result)
    {
        _lifecycle.Checking = false;
        Storage = result.Storage;
        if (result.Counters is { } counters)
        {
            _stats.Restore(counters.Uploaded, counters.Downloaded, counters.SeedingTime);
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
        if (_lifecycle.CheckDone() is { } waiting)
        {
            Apply(waiting);
            return;
        }
        SetState(WantedDone() ? CompleteState() : TorrentState.Downloading);
        if (_resumeSchedule.IsDirty) SaveResume();
        _exchange.RefreshAll();
        ConnectToCandidates();
        StartTrackers();
    }

    // ---- receiving blocks and hashing ----

    TorrentMetainfo? IBlockExchangeOwner.Metainfo => Metainfo;

    TorrentState IBlockExchangeOwner.State => _lifecycle.State;

    StorageLayout? IBlockExchangeOwner.StorageLayout => Storage?.Layout;

    void IBlockExchangeOwner.BlockDownloaded(int length)
    {
        _stats.BlockAccepted(length);
        Host.Metrics.BytesDownloaded(length);
    }

    void IBlockExchangeOwner.PieceCompleted(ActivePiece piece) => CompletePiece(piece);

    private void CompletePiece(ActivePiece piece)
    {
        _pieces.StartHashing(piece);
        var storage = Storage!;
        var contributors = _exchange.TakeContributors(piece.Index);
        _storageWork.HashAndWrite(storage, piece, (long)piece.Index * Metainfo!.PieceLength, contributors);
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
        _reports.PieceVerified(index);
        _resumeSchedule.MarkDirty();
        Host.Metrics.PieceVerified();
        _exchange.AnnounceHave(index);
        if (WantedDone() && _lifecycle.IsDownloading)
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
        _storageWork.RecheckPiece(storage, index);
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
        if (_lifecycle.IsSeeding && _pieces.Wanted[index] && !_lifecycle.SeedLimitReached)
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
        // The uploaded count is taken now, not from the last snapshot, which may be a second old.
        _storageWork.SaveResume(store, Storage, new ResumeSnapshot(InfoHash.ToHex(), _pieces.Have.Clone(), _filePriorities.ToArray(),
            SavePath, _stats.Downloaded, UploadedNow(), _lifecycle.UserPaused, QueuePriority, _completedAt, AddedAt, SeedTime));
    }

}
