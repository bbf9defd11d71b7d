using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Queueing;
using TorrentEdge.Engine.Storage.Resume;

namespace TorrentEdge.Engine.Torrents;

/// <summary>What a file check needs, copied on the loop before the check runs off it.</summary>
internal sealed record CheckRequest(
    TorrentMetainfo Metainfo,
    IPieceStore? Existing,
    FilePriority[] Priorities,
    IPieceStoreFactory Stores,
    ResumeDataStore? Resumes,
    int Parallelism,
    string InfoHash,
    string SavePath,
    Func<bool>? Fence,
    bool ForceRecheck);

/// <summary>What one resume save writes, copied on the loop (the files' sizes and times are read after the flush).</summary>
internal sealed record ResumeSnapshot(
    string InfoHash,
    BitField Have,
    FilePriority[] Priorities,
    string SavePath,
    long Downloaded,
    long Uploaded,
    bool Paused,
    QueuePriority QueuePriority,
    DateTimeOffset? CompletedAt,
    DateTimeOffset AddedAt,
    TimeSpan SeedingTime);

/// <summary>
/// The torrent's work on its piece store, all of it off the loop: the file check (resume data when the trust rule
/// accepts it, else a recheck), hashing and writing a finished piece, hashing again a piece a read failed for, and
/// resume data writes, run one after another. Each task reads only what it is handed and writes nothing of the
/// torrent's: its result goes back to the loop as a message (<see cref="CheckDoneMessage"/>,
/// <see cref="PieceHashedMessage"/>, <see cref="PieceRecheckedMessage"/>), so the loop stays the only writer.
/// </summary>
internal sealed class StorageWork(Func<TorrentMessage, bool> post, Action<Task> track, Func<bool> mayWrite, CancellationToken stopping)
{
    private Task _resumeSave = Task.CompletedTask;

    /// <summary>Opens the storage when needed and decides what is on disk; posts one <see cref="CheckDoneMessage"/>.</summary>
    public void StartCheck(CheckRequest request)
    {
        var (m, existing, priorities, stores, resumes, parallelism, infoHash, savePath, fence, forceRecheck) = request;
        var token = stopping;
        var task = Task.Run(async () =>
        {
            IPieceStore? storage = existing;
            try
            {
                storage ??= stores.Open(StorageLayout.FromMetainfo(m), savePath, fence);
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
                post(new CheckDoneMessage(have, storage, null, fromResume, counters));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                post(new CheckDoneMessage(new BitField(m.PieceCount), storage, e.Message));
            }
        });
        track(task);
    }

    /// <summary>
    /// The bytes of the pieces on disk that the resume data did not list. An owner that wrote files after its last save
    /// counted their download only in memory (a kill -9, or a replica that lost the torrent, loses that count); the
    /// recheck finds the pieces, so they are not fetched again, and without this the downloaded counter (the statistics
    /// built on it) would fall short of what came off the wire by up to a save interval of traffic.
    /// </summary>
    public static long VerifiedSinceSave(StorageLayout layout, BitField have, BitField saved)
    {
        if (saved.Length != have.Length) return 0;
        long bytes = 0;
        for (var i = have.NextSet(0); i >= 0 && i < have.Length; i = have.NextSet(i + 1))
        {
            if (!saved[i]) bytes += layout.GetPieceLength(i);
        }
        return bytes;
    }

    /// <summary>
    /// Hashes a sealed piece and writes it when it passes, on the thread pool (the loop and the sockets never wait for
    /// SHA-1 or the disk); returns its buffer and posts a <see cref="PieceHashedMessage"/>.
    /// </summary>
    public void HashAndWrite(IPieceStore storage, ActivePiece piece, long offset, PeerSession[] contributors)
    {
        var token = stopping;
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
            post(new PieceHashedMessage(piece.Index, passed, contributors, writeError));
        });
        track(task);
    }

    /// <summary>Hashes a piece on disk again (a read of it failed); posts a <see cref="PieceRecheckedMessage"/>.</summary>
    public void RecheckPiece(IPieceStore storage, int index)
    {
        var token = stopping;
        track(Task.Run(async () =>
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
            post(new PieceRecheckedMessage(index, passed));
        }, CancellationToken.None));
    }

    /// <summary>Writes resume data after flushing the files, so the sizes and times recorded are those of data really on disk.</summary>
    public void SaveResume(ResumeDataStore store, IPieceStore storage, ResumeSnapshot s)
    {
        QueueResumeWrite(async () =>
        {
            await storage.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            var data = ResumeData.Create(s.InfoHash, s.Have, storage.ObserveFiles(), s.Priorities) with
            {
                SavePath = s.SavePath,
                Downloaded = s.Downloaded,
                Uploaded = s.Uploaded,
                Paused = s.Paused,
                QueuePriority = s.QueuePriority,
                CompletedAt = s.CompletedAt,
                AddedAt = s.AddedAt,
                SeedingTime = s.SeedingTime,
            };
            await store.SaveAsync(data, CancellationToken.None).ConfigureAwait(false);
        });
    }

    /// <summary>Deletes the resume data, in turn behind any save in flight (a recheck must not be skipped at the next start).</summary>
    public void DeleteResume(ResumeDataStore store, string infoHash) =>
        QueueResumeWrite(() =>
        {
            store.Delete(infoHash);
            return Task.CompletedTask;
        });

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
            if (!mayWrite()) return;
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
        track(task);
    }
}
