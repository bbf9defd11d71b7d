using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Queueing;

namespace TorrentEdge.Engine.Storage.Resume;

/// <summary>
/// What a torrent needs to restart without rehashing: which pieces it had, the files as they were
/// when that was saved, its counters and its queue state.
/// </summary>
/// <remarks>
/// Trust rule applied after a start (<see cref="CheckConsistency(StorageLayout, IReadOnlyList{FileObservation})"/>):
/// the saved bitfield is trusted only if the piece count matches and every file's existence, size and
/// last write time are exactly what was recorded at save. Any difference means the files changed
/// behind our back (or the save raced a write), so none of the claimed pieces are trusted and a full
/// recheck decides. Save only after <c>TorrentStorage.FlushAsync</c> with writes quiesced; a write
/// after the save changes a last write time and so costs a recheck, never a wrong piece.
/// </remarks>
public sealed record ResumeData
{
    /// <summary>The format written by this code; loading rejects newer versions.</summary>
    public const int CurrentVersion = 1;

    public int Version { get; init; } = CurrentVersion;

    /// <summary>Lower-case hex of the 20-byte info-hash.</summary>
    public required string InfoHash { get; init; }

    public required int PieceCount { get; init; }

    /// <summary>Pieces we had, in BitField wire layout.</summary>
    public required byte[] Bitfield { get; init; }

    /// <summary>One entry per file, in layout order.</summary>
    public required IReadOnlyList<ResumeFile> Files { get; init; }

    /// <summary>Where the files live (the storage root), if the engine wants it back.</summary>
    public string? SavePath { get; init; }

    public long Downloaded { get; init; }

    public long Uploaded { get; init; }

    public TimeSpan SeedingTime { get; init; }

    public DateTimeOffset AddedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; init; }

    public bool Paused { get; init; }

    public QueuePriority QueuePriority { get; init; } = QueuePriority.Normal;

    /// <summary>Builds resume data from the current bitfield and what is on disk now.</summary>
    public static ResumeData Create(
        string infoHash,
        BitField have,
        IReadOnlyList<FileObservation> observedFiles,
        IReadOnlyList<FilePriority>? priorities = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(infoHash);
        ArgumentNullException.ThrowIfNull(have);
        ArgumentNullException.ThrowIfNull(observedFiles);
        if (priorities is not null && priorities.Count != observedFiles.Count)
            throw new ArgumentException("One priority per file.", nameof(priorities));
        var files = new ResumeFile[observedFiles.Count];
        for (var i = 0; i < files.Length; i++)
            files[i] = ResumeFile.From(observedFiles[i], priorities?[i] ?? FilePriority.Normal);
        return new ResumeData
        {
            InfoHash = infoHash.ToLowerInvariant(),
            PieceCount = have.Length,
            Bitfield = have.Bytes.ToArray(),
            Files = files,
        };
    }

    /// <summary>The saved bitfield, or null if it does not fit <see cref="PieceCount"/>.</summary>
    public BitField? GetBitField() =>
        Bitfield is not null && BitField.TryFromBytes(Bitfield, PieceCount, out var bits) ? bits : null;

    /// <summary>Applies the trust rule to <paramref name="observedFiles"/> (see the type's remarks).</summary>
    public ResumeConsistency CheckConsistency(StorageLayout layout, IReadOnlyList<FileObservation> observedFiles)
    {
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(observedFiles);
        if (PieceCount != layout.PieceCount)
            return ResumeConsistency.Untrusted($"Piece count {PieceCount} differs from the torrent's {layout.PieceCount}.");
        if (GetBitField() is null)
            return ResumeConsistency.Untrusted("The saved bitfield does not fit the piece count.");
        if (Files is null || Files.Count != layout.Files.Count || observedFiles.Count != layout.Files.Count)
            return ResumeConsistency.Untrusted("The number of files differs.");
        for (var i = 0; i < Files.Count; i++)
        {
            var saved = Files[i];
            var now = observedFiles[i];
            var path = layout.Files[i].RelativePath;
            if (saved is null) return ResumeConsistency.Untrusted($"File {i} has no entry.");
            if (saved.Size < 0 != !now.Exists)
                return ResumeConsistency.Untrusted(now.Exists ? $"'{path}' appeared." : $"'{path}' is missing.");
            if (!now.Exists) continue;
            if (saved.Size != now.Size)
                return ResumeConsistency.Untrusted($"'{path}' is {now.Size} bytes, was {saved.Size}.");
            if (saved.LastWriteUtcTicks != now.LastWriteUtc.Ticks)
                return ResumeConsistency.Untrusted($"'{path}' was modified after the resume data was saved.");
        }
        return ResumeConsistency.Trusted;
    }

    /// <summary>Applies the trust rule to the files of <paramref name="storage"/> as they are on disk now.</summary>
    public ResumeConsistency CheckConsistency(TorrentStorage storage)
    {
        ArgumentNullException.ThrowIfNull(storage);
        return CheckConsistency(storage.Layout, storage.ObserveFiles());
    }

    /// <summary>Applies the trust rule to files of <paramref name="layout"/> under <paramref name="root"/>.</summary>
    public bool IsConsistentWith(StorageLayout layout, string root, out string? reason)
    {
        var storage = new TorrentStorage(layout, root);
        // No handle is opened by ObserveFiles, so there is nothing to dispose asynchronously.
        var result = CheckConsistency(layout, storage.ObserveFiles());
        reason = result.Reason;
        return result.IsTrusted;
    }
}

/// <summary>A file as recorded in resume data: size (-1 when it did not exist), last write time and priority.</summary>
public sealed record ResumeFile(long Size, long LastWriteUtcTicks, FilePriority Priority)
{
    public static ResumeFile From(FileObservation observation, FilePriority priority) =>
        observation.Exists
            ? new ResumeFile(observation.Size, observation.LastWriteUtc.Ticks, priority)
            : new ResumeFile(-1, 0, priority);
}

/// <summary>Whether a saved bitfield may be trusted, and if not, why.</summary>
public readonly record struct ResumeConsistency(bool IsTrusted, string? Reason)
{
    public static ResumeConsistency Trusted => new(true, null);

    public static ResumeConsistency Untrusted(string reason) => new(false, reason);
}
