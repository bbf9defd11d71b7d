using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Model;

/// <summary>
/// One torrent in the registry: its desired state (what Catalog publishes to torrent-specs), its owners,
/// and the last status projected from torrent-events.
/// </summary>
/// <remarks>
/// <see cref="Revision"/> grows with every change of desired state; <see cref="PublishedRevision"/> is the last one
/// the broker acknowledged. A torrent whose revision is ahead of its published revision is the outbox: the desired
/// state and the fact that it still has to be published are written in one row, so a crash between the database
/// write and the publish loses nothing, and because the topic is compacted only the latest spec needs to go out.
/// </remarks>
public sealed class CatalogTorrent
{
    public required string InfoHash { get; init; }
    public string? Name { get; set; }
    public long TotalBytes { get; set; }
    public byte[]? Metainfo { get; set; }
    public string? MagnetUri { get; set; }
    public string? SavePath { get; set; }
    public bool Paused { get; set; }
    public TorrentPriority Priority { get; set; } = TorrentPriority.Normal;
    public List<FilePriority> FilePriorities { get; set; } = [];
    public List<TorrentFileEntry> Files { get; set; } = [];
    public List<string> Trackers { get; set; } = [];
    public List<TorrentOwner> Owners { get; set; } = [];
    public DateTimeOffset AddedAt { get; set; }
    public long Revision { get; set; }
    public long PublishedRevision { get; set; }
    public int RecheckGeneration { get; set; }
    public bool Removed { get; set; }
    public bool DeleteData { get; set; }
    public TorrentStatus Status { get; set; } = new();

    public bool HasOwner(string userId) => Owners.Exists(o => o.UserId == userId);

    public TorrentOwner? FindOwner(string userId) => Owners.Find(o => o.UserId == userId);

    /// <summary>
    /// Derives the download's desired state from its owners' wishes, so no owner's wish overrides another's: it runs while
    /// any owner wants it running; its priority is the highest among the owners who want it running; a file is fetched
    /// (at the highest priority asked) when any owner who wants the torrent running wants that file. With every owner
    /// paused, the paused owners' wishes count instead, so the priorities are ready when one resumes.
    /// </summary>
    public void MergeOwnerWishes()
    {
        if (Owners.Count == 0)
        {
            return;
        }
        var running = Owners.Where(o => !o.Wishes.Paused).Select(o => o.Wishes).ToList();
        Paused = running.Count == 0;
        var deciding = running.Count > 0 ? running : Owners.Select(o => o.Wishes).ToList();
        Priority = deciding.Max(w => w.Priority);
        if (Files.Count > 0)
        {
            FilePriorities = Enumerable.Range(0, Files.Count)
                .Select(i => deciding.Max(w => i < w.FilePriorities.Count ? w.FilePriorities[i] : FilePriority.Normal))
                .ToList();
        }
        // Workers ignore the save path (every download lands in its info-hash folder); the spec names the first owner's.
        SavePath = Owners[0].Wishes.SavePath;
        // A magnet download keeps the magnet it was started with while its owner stays; otherwise the next owner's.
        if (Metainfo is null && !Owners.Exists(o => o.Wishes.MagnetUri == MagnetUri))
        {
            MagnetUri = Owners.Select(o => o.Wishes.MagnetUri).FirstOrDefault(m => m is not null) ?? MagnetUri;
        }
    }

    /// <summary>The reported state, or until a worker reports one, what the desired state implies.</summary>
    public TorrentState EffectiveState => Status.State
        ?? (Paused ? TorrentState.Paused : Metainfo is null ? TorrentState.FetchingMetadata : TorrentState.Queued);

    /// <summary>
    /// The download's encryption policy from its owners' wishes (null: the worker's own setting). An owner who requires
    /// encryption gets it (no other owner's wish makes the download talk plaintext); otherwise an override holds when every
    /// owner who decides (those who want it running, or all while all are paused) asks for the same one.
    /// </summary>
    public PeerEncryption? MergedEncryption()
    {
        var running = Owners.Where(o => !o.Wishes.Paused).Select(o => o.Wishes.Encryption).ToList();
        var deciding = running.Count > 0 ? running : Owners.Select(o => o.Wishes.Encryption).ToList();
        if (deciding.Contains(PeerEncryption.Require)) return PeerEncryption.Require;
        return deciding.Count > 0 && deciding.All(e => e == deciding[0]) ? deciding[0] : null;
    }

    public TorrentSpecChanged ToSpec(bool includeMetainfo) => new(
        InfoHash,
        Revision,
        Name,
        includeMetainfo ? Metainfo : null,
        Metainfo is not null,
        MagnetUri,
        SavePath,
        Paused,
        Priority,
        FilePriorities.ToArray(),
        Owners.Select(o => o.UserId).ToArray(),
        RecheckGeneration,
        Removed,
        DeleteData)
    {
        Encryption = MergedEncryption(),
    };
}

/// <summary>A user who added the torrent and when, with that user's own wishes and view of it.</summary>
public sealed record TorrentOwner(string UserId, DateTimeOffset AddedAt)
{
    /// <summary>What this owner asked for and gave; the download's desired state is merged from every owner's.</summary>
    public OwnerWishes Wishes { get; set; } = new();
}

/// <summary>
/// One owner's side of a shared download: their pause, priorities, save path and name, and the trackers and magnet they
/// gave (which may carry their private passkeys, so nobody else ever sees them).
/// </summary>
public sealed class OwnerWishes
{
    public string? Name { get; set; }
    public string? MagnetUri { get; set; }
    public string? SavePath { get; set; }
    public bool Paused { get; set; }
    public TorrentPriority Priority { get; set; } = TorrentPriority.Normal;

    /// <summary>One per file once the files are known; empty until then.</summary>
    public List<FilePriority> FilePriorities { get; set; } = [];
    public List<string> Trackers { get; set; } = [];

    /// <summary>This owner's message stream encryption policy for the download; null: the worker's own.</summary>
    public PeerEncryption? Encryption { get; set; }

    /// <summary>True when the stored metainfo is this owner's upload, byte for byte (so it is served back to them as is).</summary>
    public bool MetainfoSource { get; set; }

    /// <summary>The wishes of an owner stored before owners had their own (the download's values then were theirs).</summary>
    public static OwnerWishes FromDownload(CatalogTorrent t) => new()
    {
        MagnetUri = t.MagnetUri,
        SavePath = t.SavePath,
        Paused = t.Paused,
        Priority = t.Priority,
        FilePriorities = [.. t.FilePriorities],
        Trackers = [.. t.Trackers],
        MetainfoSource = t.Metainfo is not null,
    };
}

/// <summary>A file of the torrent, in metainfo order.</summary>
public sealed record TorrentFileEntry(string Path, long Length);

/// <summary>The last status reported by a worker, projected from torrent-events.</summary>
public sealed class TorrentStatus
{
    /// <summary>The sequence of the last torrent event applied (0 before the first sequenced one).</summary>
    public long Sequence { get; set; }
    public TorrentState? State { get; set; }
    public double Progress { get; set; }
    public long VerifiedBytes { get; set; }
    public long DownloadedBytes { get; set; }
    public long UploadedBytes { get; set; }
    public long DownloadRate { get; set; }
    public long UploadRate { get; set; }
    public int PeersConnected { get; set; }
    public int PeersTotal { get; set; }
    public long? EtaSeconds { get; set; }
    public List<long> FileVerifiedBytes { get; set; } = [];
    public List<TrackerStatus> Trackers { get; set; } = [];
    public string? Error { get; set; }
    public string? WorkerId { get; set; }
    public int? QueuePosition { get; set; }
    public DateTimeOffset? UpdatedAt { get; set; }

    /// <summary>The connected peers the worker named last (its busiest few; empty when none or not running).</summary>
    public List<PeerStatus> Peers { get; set; } = [];

    /// <summary>The have-bitfield the worker sent last (it sends one only when it changed, at a bounded rate); null before.</summary>
    public byte[]? PieceBitfield { get; set; }
    public int PieceCount { get; set; }
    public DateTimeOffset? PiecesUpdatedAt { get; set; }

    /// <summary>When the current seeding phase began, as the events tell (null while not seeding).</summary>
    public DateTimeOffset? SeedingSince { get; set; }

    /// <summary>Seconds seeded in earlier phases; with <see cref="SeedingSince"/> the torrent's seeding time, kept across workers.</summary>
    public long SeededSeconds { get; set; }

    /// <summary>Seconds seeded in all, as of <paramref name="now"/>.</summary>
    public long SeedingSeconds(DateTimeOffset now) =>
        SeededSeconds + (SeedingSince is { } since && now > since ? (long)(now - since).TotalSeconds : 0);
}
