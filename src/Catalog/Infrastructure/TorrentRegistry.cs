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
    IReadOnlyList<FilePriority>? FilePriorities)
{
    public string InfoHash => Torrent?.InfoHash ?? Magnet!.InfoHash;
}

/// <summary>The outcome of a change to a torrent's desired state.</summary>
internal enum ChangeOutcome { Changed, Unchanged, NotFound, Conflict, Invalid }

/// <summary>
/// The torrent registry's rules: one download per info-hash with many owners, visibility per owner (admins see all),
/// and every change of desired state written with a new revision so the outbox publishes it.
/// </summary>
internal sealed class TorrentRegistry(ICatalogStore store, OutboxSignal outbox, TimeProvider time)
{
    private const int MaxAttempts = 8;

    /// <summary>Adds the torrent for the caller; <c>Created</c> is false when the caller already had it (idempotent add).</summary>
    public async Task<(CatalogTorrent Torrent, bool Created)> AddAsync(string userId, AddTorrentInput input, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var now = time.GetUtcNow();
            var existing = await store.FindTorrentAsync(input.InfoHash, cancellationToken);
            if (existing is null)
            {
                var torrent = new CatalogTorrent { InfoHash = input.InfoHash, Revision = 1 };
                Apply(torrent, input, userId, now);
                if (await store.TryInsertTorrentAsync(torrent, cancellationToken))
                {
                    outbox.Notify(torrent.InfoHash);
                    return (torrent, true);
                }
            }
            else if (existing.Removed)
            {
                // A torrent removed earlier comes back as a new download; the revision keeps growing so workers see it.
                var expected = existing.Revision;
                Apply(existing, input, userId, now);
                existing.Owners = [new TorrentOwner(userId, now)];
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
                    return (existing, true);
                }
            }
            else if (existing.HasOwner(userId))
            {
                return (existing, false);
            }
            else
            {
                // Another user's download: one download, one more owner. Its options stay those of the download.
                var expected = existing.Revision;
                existing.Owners.Add(new TorrentOwner(userId, now));
                if (existing.Metainfo is null && input.Metainfo is not null)
                {
                    SetMetainfo(existing, input.Torrent!, input.Metainfo);
                }
                existing.Revision = expected + 1;
                if (await store.TryReplaceTorrentAsync(existing, expected, cancellationToken))
                {
                    outbox.Notify(existing.InfoHash);
                    return (existing, true);
                }
            }
            if (attempt >= MaxAttempts)
            {
                throw new InvalidOperationException($"Torrent {input.InfoHash} kept changing while being added.");
            }
        }
    }

    private static void Apply(CatalogTorrent torrent, AddTorrentInput input, string userId, DateTimeOffset now)
    {
        torrent.AddedAt = now;
        torrent.Owners = [new TorrentOwner(userId, now)];
        torrent.SavePath = input.SavePath;
        torrent.Paused = input.Paused;
        torrent.Priority = input.Priority;
        torrent.RecheckGeneration = 0;
        if (input.Torrent is not null)
        {
            SetMetainfo(torrent, input.Torrent, input.Metainfo!);
            torrent.MagnetUri = null;
            if (input.FilePriorities is { Count: > 0 } priorities)
            {
                torrent.FilePriorities = [.. priorities];
            }
        }
        else
        {
            torrent.Metainfo = null;
            torrent.MagnetUri = input.MagnetUri;
            torrent.Name = input.Magnet!.Name;
            torrent.Trackers = [.. input.Magnet.Trackers];
            torrent.Files = [];
            torrent.FilePriorities = [];
            torrent.TotalBytes = 0;
        }
    }

    /// <summary>Stores metainfo (from an upload or from the swarm) and what follows from it.</summary>
    public static void SetMetainfo(CatalogTorrent torrent, ParsedTorrent parsed, byte[] metainfo)
    {
        torrent.Metainfo = metainfo;
        torrent.Name = parsed.Name;
        torrent.TotalBytes = parsed.TotalBytes;
        torrent.Files = [.. parsed.Files];
        torrent.Trackers = parsed.Trackers.Union(torrent.Trackers).ToList();
        if (torrent.FilePriorities.Count != parsed.Files.Count)
        {
            torrent.FilePriorities = [.. Enumerable.Repeat(FilePriority.Normal, parsed.Files.Count)];
        }
    }

    /// <summary>The torrent if the caller may see it: an owner, or an admin; otherwise null (so others get 404, not 403).</summary>
    public async Task<CatalogTorrent?> FindVisibleAsync(ClaimsPrincipal user, string infoHash, CancellationToken cancellationToken)
    {
        var torrent = await store.FindTorrentAsync(infoHash, cancellationToken);
        return torrent is null || torrent.Removed || !(user.IsAdmin() || torrent.HasOwner(user.GetUserId())) ? null : torrent;
    }

    /// <summary>
    /// Applies <paramref name="change"/> to a visible torrent and stores it with a new revision, retrying on concurrent
    /// changes. <paramref name="change"/> returns null to store, <see cref="ChangeOutcome.Unchanged"/> to skip, or
    /// <see cref="ChangeOutcome.Conflict"/> to refuse.
    /// </summary>
    public async Task<(ChangeOutcome Outcome, CatalogTorrent? Torrent)> ChangeAsync(
        ClaimsPrincipal user, string infoHash, Func<CatalogTorrent, ChangeOutcome?> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var torrent = await FindVisibleAsync(user, infoHash, cancellationToken);
            if (torrent is null)
            {
                return (ChangeOutcome.NotFound, null);
            }
            var expected = torrent.Revision;
            if (change(torrent) is { } refused)
            {
                return (refused, torrent);
            }
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
    /// Removes the caller's ownership; the download itself ends (with its data if asked) when no owner is left.
    /// An admin who does not own the torrent removes it for everyone.
    /// </summary>
    public Task<(ChangeOutcome Outcome, CatalogTorrent? Torrent)> RemoveAsync(ClaimsPrincipal user, string infoHash, bool deleteData, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        return ChangeAsync(user, infoHash, torrent =>
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
