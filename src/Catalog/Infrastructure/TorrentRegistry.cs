using System.Security.Claims;
using TorrentEdge.Catalog.IntegrationEvents;
using TorrentEdge.Catalog.Model;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Infrastructure;

/// <summary>What a user asked to add: a parsed .torrent or magnet, and the options of the add.</summary>
internal sealed record AddTorrentInput(
    ParsedTorrent? Torrent,
    byte[]? Metainfo,
    ParsedMagnet? Magnet,
    string? MagnetUri,
    string? SavePath,
    bool Paused,
    TorrentPriority Priority,
    IReadOnlyList<FilePriority>? FilePriorities,
    PeerEncryption? Encryption = null)
{
    public string InfoHash => Torrent?.InfoHash ?? Magnet!.InfoHash;
}

/// <summary>The outcome of a change to a torrent's desired state.</summary>
internal enum ChangeOutcome { Changed, Unchanged, NotFound, Conflict, Invalid }

/// <summary>The outcome of an add.</summary>
internal enum AddOutcome
{
    /// <summary>A new download, or a new owner of an existing one.</summary>
    Created,

    /// <summary>The caller already owned it (an idempotent add).</summary>
    Existing,

    /// <summary>A private torrent (BEP 27) that another user already has: private downloads are never shared.</summary>
    PrivateConflict,

    /// <summary>The user owns as many torrents as their quota allows.</summary>
    TorrentQuotaExceeded,

    /// <summary>The torrent would take the user's owned bytes over their quota.</summary>
    ByteQuotaExceeded,
}

/// <summary>A user's limits (0: none): the configured defaults or an admin's overrides.</summary>
internal readonly record struct UserQuota(long MaxTorrents, long MaxBytes)
{
    public static UserQuota For(Model.User? user, CatalogOptions options) =>
        new(user?.MaxTorrents ?? options.MaxTorrentsPerUser, user?.MaxBytes ?? options.MaxBytesPerUser);
}

/// <summary>What an add did; for a refused quota, the limit and what the user already has.</summary>
internal readonly record struct AddResult(CatalogTorrent? Torrent, AddOutcome Outcome, long Limit = 0, long Used = 0);

/// <summary>
/// The torrent registry's rules: one download per info-hash with many owners, each with their own wishes and view (see
/// <see cref="CatalogTorrent.MergeOwnerWishes"/>), visibility per owner (admins see all), private torrents never shared,
/// and every change of desired state written with a new revision so the outbox publishes it.
/// </summary>
internal sealed class TorrentRegistry(ICatalogStore store, OutboxSignal outbox, ITorrentParser parser, TimeProvider time)
{
    private const int MaxAttempts = 8;

    /// <summary>Adds the torrent for the caller.</summary>
    public async Task<AddResult> AddAsync(string userId, AddTorrentInput input, UserQuota quota, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var now = time.GetUtcNow();
            var owner = new TorrentOwner(userId, now) { Wishes = WishesOf(input) };
            var existing = await store.FindTorrentAsync(input.InfoHash, cancellationToken);
            if (existing is null || existing.Removed || !existing.HasOwner(userId))
            {
                // A new ownership counts against the caller's quota (a shared download in full: each owner keeps it alone
                // once the others leave). Checked before the write, so parallel adds may pass it together, by one each.
                var adds = input.Torrent?.TotalBytes ?? (existing is { Removed: false } ? existing.TotalBytes : 0);
                if (await CheckQuotaAsync(userId, adds, quota, cancellationToken) is { } refused)
                {
                    return refused;
                }
            }
            if (existing is null)
            {
                var torrent = new CatalogTorrent { InfoHash = input.InfoHash, Revision = 1 };
                Apply(torrent, input, owner, now);
                if (await store.TryInsertTorrentAsync(torrent, cancellationToken))
                {
                    outbox.Notify(torrent.InfoHash);
                    return new AddResult(torrent, AddOutcome.Created);
                }
            }
            else if (existing.Removed)
            {
                // A torrent removed earlier comes back as a new download; the revision keeps growing so workers see it.
                var expected = existing.Revision;
                Apply(existing, input, owner, now);
                existing.Removed = false;
                existing.DeleteData = false;
                existing.Revision = expected + 1;
                // The old download's status no longer applies; until a worker reports, show what the new desired state implies.
                existing.Status = new TorrentStatus();
                existing.Status.State = existing.EffectiveState;
                if (await store.TryReplaceTorrentAsync(existing, expected, cancellationToken))
                {
                    await store.UpdateStatusAsync(existing.InfoHash, existing.Status, cancellationToken);
                    outbox.Notify(existing.InfoHash);
                    return new AddResult(existing, AddOutcome.Created);
                }
            }
            else if (existing.HasOwner(userId))
            {
                return new AddResult(existing, AddOutcome.Existing);
            }
            else
            {
                // A private torrent's peers come only from its own trackers, and those trackers know their users by the
                // passkey in the announce URL. Sharing the download would fetch for one user on another's private account,
                // so private torrents are never shared: the second user is told so (409) and nothing changes.
                if (input.Torrent?.IsPrivate == true || IsPrivate(existing))
                {
                    return new AddResult(null, AddOutcome.PrivateConflict);
                }
                // Another user's download: one download, one more owner with their own wishes.
                var expected = existing.Revision;
                if (existing.Metainfo is null && input.Metainfo is not null)
                {
                    SetMetainfo(existing, input.Torrent!, input.Metainfo);
                }
                else
                {
                    owner.Wishes.MetainfoSource = false;
                }
                SizeFilePriorities(owner.Wishes, existing.Files.Count);
                existing.Owners.Add(owner);
                existing.MergeOwnerWishes();
                existing.Revision = expected + 1;
                if (await store.TryReplaceTorrentAsync(existing, expected, cancellationToken))
                {
                    outbox.Notify(existing.InfoHash);
                    return new AddResult(existing, AddOutcome.Created);
                }
            }
            if (attempt >= MaxAttempts)
            {
                throw new InvalidOperationException($"Torrent {input.InfoHash} kept changing while being added.");
            }
        }
    }

    private async Task<AddResult?> CheckQuotaAsync(string userId, long addedBytes, UserQuota quota, CancellationToken cancellationToken)
    {
        if (quota.MaxTorrents <= 0 && quota.MaxBytes <= 0)
        {
            return null;
        }
        var (torrents, bytes) = await store.GetOwnerUsageAsync(userId, cancellationToken);
        if (quota.MaxTorrents > 0 && torrents >= quota.MaxTorrents)
        {
            return new AddResult(null, AddOutcome.TorrentQuotaExceeded, quota.MaxTorrents, torrents);
        }
        if (quota.MaxBytes > 0 && bytes + addedBytes > quota.MaxBytes)
        {
            return new AddResult(null, AddOutcome.ByteQuotaExceeded, quota.MaxBytes, bytes);
        }
        return null;
    }

    private bool IsPrivate(CatalogTorrent torrent)
    {
        if (torrent.Metainfo is null)
        {
            return false;
        }
        try
        {
            return parser.ParseTorrent(torrent.Metainfo).IsPrivate;
        }
        catch (TorrentParseException)
        {
            // Stored metainfo was parsed when it came in; if it no longer parses, sharing it is not safe either.
            return true;
        }
    }

    private static OwnerWishes WishesOf(AddTorrentInput input) => new()
    {
        Name = input.Torrent?.Name ?? input.Magnet!.Name,
        MagnetUri = input.MagnetUri,
        SavePath = input.SavePath,
        Paused = input.Paused,
        Priority = input.Priority,
        FilePriorities = input.FilePriorities is { Count: > 0 } given ? [.. given] : [],
        Trackers = [.. input.Torrent?.Trackers ?? input.Magnet!.Trackers],
        MetainfoSource = input.Torrent is not null,
        Encryption = input.Encryption,
    };

    private static void SizeFilePriorities(OwnerWishes wishes, int fileCount)
    {
        if (fileCount > 0 && wishes.FilePriorities.Count != fileCount)
        {
            wishes.FilePriorities = [.. Enumerable.Repeat(FilePriority.Normal, fileCount)];
        }
    }

    private static void Apply(CatalogTorrent torrent, AddTorrentInput input, TorrentOwner owner, DateTimeOffset now)
    {
        torrent.AddedAt = now;
        torrent.Owners = [owner];
        torrent.RecheckGeneration = 0;
        torrent.FilePriorities = [];
        if (input.Torrent is not null)
        {
            torrent.Metainfo = null;
            torrent.Trackers = [];
            SetMetainfo(torrent, input.Torrent, input.Metainfo!);
            torrent.MagnetUri = null;
        }
        else
        {
            torrent.Metainfo = null;
            torrent.MagnetUri = input.MagnetUri;
            torrent.Name = input.Magnet!.Name;
            torrent.Trackers = [.. input.Magnet.Trackers];
            torrent.Files = [];
            torrent.TotalBytes = 0;
        }
        torrent.MergeOwnerWishes();
    }

    /// <summary>
    /// Stores metainfo (from an upload or from the swarm) and what follows from it. Returns the owners it detached: when a
    /// shared magnet download turns out to be private, only the owner whose magnet (and trackers) it announces with keeps
    /// it, for the reason private uploads are never shared.
    /// </summary>
    public static IReadOnlyList<string> SetMetainfo(CatalogTorrent torrent, ParsedTorrent parsed, byte[] metainfo)
    {
        torrent.Metainfo = metainfo;
        torrent.Name = parsed.Name;
        torrent.TotalBytes = parsed.TotalBytes;
        torrent.Files = [.. parsed.Files];
        torrent.Trackers = parsed.Trackers.Union(torrent.Trackers).ToList();
        List<string> detached = [];
        if (parsed.IsPrivate && torrent.Owners.Count > 1)
        {
            var announcing = torrent.Owners.Find(o => o.Wishes.MagnetUri is not null && o.Wishes.MagnetUri == torrent.MagnetUri) ?? torrent.Owners[0];
            detached = torrent.Owners.Where(o => o != announcing).Select(o => o.UserId).ToList();
            torrent.Owners = [announcing];
        }
        foreach (var owner in torrent.Owners)
        {
            SizeFilePriorities(owner.Wishes, parsed.Files.Count);
        }
        torrent.FilePriorities = [.. Enumerable.Repeat(FilePriority.Normal, parsed.Files.Count)];
        torrent.MergeOwnerWishes();
        return detached;
    }

    /// <summary>The torrent if the caller may see it: an owner, or an admin; otherwise null (so others get 404, not 403).</summary>
    public async Task<CatalogTorrent?> FindVisibleAsync(ClaimsPrincipal user, string infoHash, CancellationToken cancellationToken)
    {
        var torrent = await store.FindTorrentAsync(infoHash, cancellationToken);
        return torrent is null || torrent.Removed || !(user.IsAdmin() || torrent.HasOwner(user.GetUserId())) ? null : torrent;
    }

    /// <summary>
    /// Applies <paramref name="change"/> to a visible torrent and stores it with a new revision, retrying on concurrent
    /// changes. <paramref name="change"/> gets the wishes it may change: the caller's own when they own the torrent, every
    /// owner's when an admin who does not own it steps in. It returns null to store, <see cref="ChangeOutcome.Unchanged"/>
    /// to skip, or <see cref="ChangeOutcome.Conflict"/> to refuse. The download's desired state is then merged again.
    /// </summary>
    public async Task<(ChangeOutcome Outcome, CatalogTorrent? Torrent)> ChangeAsync(
        ClaimsPrincipal user, string infoHash, Func<CatalogTorrent, IReadOnlyList<OwnerWishes>, ChangeOutcome?> change, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        for (var attempt = 0; ; attempt++)
        {
            var torrent = await FindVisibleAsync(user, infoHash, cancellationToken);
            if (torrent is null)
            {
                return (ChangeOutcome.NotFound, null);
            }
            var expected = torrent.Revision;
            IReadOnlyList<OwnerWishes> wishes = torrent.FindOwner(userId) is { } own ? [own.Wishes] : torrent.Owners.Select(o => o.Wishes).ToList();
            if (change(torrent, wishes) is { } refused)
            {
                return (refused, torrent);
            }
            torrent.MergeOwnerWishes();
            torrent.Revision = expected + 1;
            if (await store.TryReplaceTorrentAsync(torrent, expected, cancellationToken))
            {
                outbox.Notify(torrent.InfoHash);
                return (ChangeOutcome.Changed, torrent);
            }
            if (attempt >= MaxAttempts)
            {
                throw new InvalidOperationException($"Torrent {infoHash} kept changing.");
            }
        }
    }

    /// <summary>
    /// Pauses the wishes of <paramref name="userIds"/> (owners whose share limit was reached), as Catalog's own decision:
    /// the download stops when no owner wants it running. False when the torrent is gone or nothing changed.
    /// </summary>
    public async Task<bool> PauseOwnersAsync(string infoHash, IReadOnlyCollection<string> userIds, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var torrent = await store.FindTorrentAsync(infoHash, cancellationToken);
            var owners = torrent?.Owners.Where(o => userIds.Contains(o.UserId) && !o.Wishes.Paused).ToList();
            if (torrent is null || torrent.Removed || owners is not { Count: > 0 })
            {
                return false;
            }
            var expected = torrent.Revision;
            owners.ForEach(o => o.Wishes.Paused = true);
            torrent.MergeOwnerWishes();
            torrent.Revision = expected + 1;
            if (await store.TryReplaceTorrentAsync(torrent, expected, cancellationToken))
            {
                outbox.Notify(torrent.InfoHash);
                return true;
            }
            if (attempt >= MaxAttempts)
            {
                throw new InvalidOperationException($"Torrent {infoHash} kept changing.");
            }
        }
    }

    /// <summary>
    /// Removes the caller's ownership; the download itself ends (with its data if asked) when no owner is left.
    /// An admin who does not own the torrent removes it for everyone.
    /// </summary>
    public Task<(ChangeOutcome Outcome, CatalogTorrent? Torrent)> RemoveAsync(ClaimsPrincipal user, string infoHash, bool deleteData, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        return ChangeAsync(user, infoHash, (torrent, _) =>
        {
            if (torrent.HasOwner(userId))
            {
                torrent.Owners.RemoveAll(o => o.UserId == userId);
            }
            else
            {
                torrent.Owners.Clear();
            }
            if (torrent.Owners.Count == 0)
            {
                torrent.Removed = true;
                torrent.DeleteData = deleteData;
            }
            return null;
        }, cancellationToken);
    }
}
