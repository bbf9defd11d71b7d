using System.Security.Claims;
using Microsoft.Extensions.Options;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.Model;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Apis.Compat;

/// <summary>One of the caller's torrents with the caller's own labels of it.</summary>
public sealed record ClientTorrent(CatalogTorrent Torrent, TorrentLabels Labels)
{
    public string InfoHash => Torrent.InfoHash;

    /// <summary>The caller's own wishes of a shared download (their pause, priorities): what their client shows and steers.</summary>
    public OwnerWishes Own => Torrent.FindOwner(Labels.UserId)?.Wishes ?? OwnerWishes.FromDownload(Torrent);

    /// <summary>The caller's priority of file <paramref name="index"/>.</summary>
    public FilePriority FilePriority(int index) => index < Own.FilePriorities.Count ? Own.FilePriorities[index] : Contracts.Torrents.FilePriority.Normal;

    /// <summary>Bytes of the files that are wanted (all when the files are not known yet).</summary>
    public long WantedBytes => Torrent.Files.Count == 0
        ? Torrent.TotalBytes
        : Torrent.Files.Where((_, i) => FilePriority(i) != Contracts.Torrents.FilePriority.Skip).Sum(f => f.Length);

    public bool Complete => Torrent.Status.Progress >= 1 || Torrent.EffectiveState == TorrentState.Seeding;

    /// <summary>Bytes still to download of what is wanted.</summary>
    public long LeftBytes => Complete ? 0 : Math.Max(0, WantedBytes - Torrent.Status.VerifiedBytes);

    /// <summary>Uploaded over downloaded, or over the size once complete (a seeder that downloaded nothing still has a ratio).</summary>
    public double Ratio
    {
        get
        {
            var s = Torrent.Status;
            var basis = Math.Max(s.DownloadedBytes, Complete ? Torrent.TotalBytes : 0);
            return basis > 0 ? Math.Round((double)s.UploadedBytes / basis, 4) : 0;
        }
    }

    /// <summary>The added time of this user (co-owners each added it at their own time).</summary>
    public DateTimeOffset AddedAt(string userId) => Torrent.Owners.Find(o => o.UserId == userId)?.AddedAt ?? Torrent.AddedAt;
}

/// <summary>The result of adding one torrent through a download-client API (Refused: a quota, or a private torrent another user has).</summary>
public enum ClientAddOutcome { Added, Duplicate, Refused }

/// <summary>
/// What both download-client APIs do to torrents, on the same registry as the REST API, scoped to the caller's own
/// torrents: a download client is one user's client, so an admin sees and steers only their own torrents here too.
/// </summary>
internal sealed class ClientTorrents(ICatalogStore store, TorrentRegistry registry, ITorrentParser parser, IOptions<CatalogOptions> options, IConfiguration configuration)
{
    // Bounds the listing loop: 50 pages of 200 torrents per user.
    private const int PageSize = 200;
    private const int MaxPages = 50;

    private TorrentRegistry Registry => registry;

    public ITorrentParser Parser => parser;

    public long MaxTorrentFileBytes => options.Value.MaxTorrentFileBytes;

    /// <summary>Where workers put torrents (<c>&lt;root&gt;/&lt;info-hash&gt;/&lt;name&gt;</c>), as clients should be told.</summary>
    public string DownloadRoot { get; } = options.Value.DownloadRoot is { Length: > 0 } root
        ? Path.TrimEndingDirectorySeparator(root)
        : Path.Combine(TorrentEdge.Catalog.Extensions.Extensions.GetDataDirectory(configuration), "downloads");

    /// <summary>The folder a torrent's content lands in (PeerWorker: DownloadRoot/info-hash).</summary>
    public string SavePath(ClientTorrent t) => DownloadRoot + "/" + t.InfoHash;

    /// <summary>The torrent's top file or folder: what a media manager imports.</summary>
    public string ContentPath(ClientTorrent t) => SavePath(t) + "/" + (string.IsNullOrEmpty(t.Torrent.Name) ? t.InfoHash : t.Torrent.Name);

    /// <summary>Every torrent the user owns, oldest added first, with the user's labels.</summary>
    public async Task<IReadOnlyList<ClientTorrent>> ListAsync(string userId, CancellationToken cancellationToken)
    {
        var labels = (await store.ListTorrentLabelsAsync(userId, cancellationToken)).ToDictionary(l => l.InfoHash, StringComparer.Ordinal);
        var result = new List<ClientTorrent>();
        for (var page = 0; page < MaxPages; page++)
        {
            var batch = await store.ListTorrentsAsync(new TorrentQuery(userId, null, TorrentSort.Added, false, page * PageSize, PageSize), cancellationToken);
            result.AddRange(batch.Items.Where(t => !t.Removed && t.HasOwner(userId))
                .Select(t => new ClientTorrent(t, labels.GetValueOrDefault(t.InfoHash) ?? NewLabels(userId, t.InfoHash))));
            if (batch.Items.Count < PageSize)
            {
                break;
            }
        }
        return result;
    }

    /// <summary>The user's own torrent, or null (also for another user's torrent: it does not exist for this user).</summary>
    public async Task<ClientTorrent?> FindAsync(ClaimsPrincipal user, string infoHash, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        var torrent = await Registry.FindVisibleAsync(user, infoHash, cancellationToken);
        if (torrent is null || !torrent.HasOwner(userId))
        {
            return null;
        }
        return new ClientTorrent(torrent, await store.FindTorrentLabelsAsync(userId, infoHash, cancellationToken) ?? NewLabels(userId, infoHash));
    }

    /// <summary>Adds a torrent for the user and stores the user's labels of it.</summary>
    public async Task<ClientAddOutcome> AddAsync(
        ClaimsPrincipal user, AddTorrentInput input, Action<TorrentLabels> labels, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        var account = await store.FindUserByIdAsync(userId, cancellationToken);
        var result = await Registry.AddAsync(userId, input, UserQuota.For(account, options.Value), cancellationToken);
        if (result.Outcome != AddOutcome.Created)
        {
            return result.Outcome == AddOutcome.Existing ? ClientAddOutcome.Duplicate : ClientAddOutcome.Refused;
        }
        var record = NewLabels(userId, input.InfoHash);
        labels(record);
        await store.SaveTorrentLabelsAsync(record, cancellationToken);
        return ClientAddOutcome.Added;
    }

    /// <summary>
    /// Changes the desired state of each of the user's torrents among <paramref name="hashes"/> (null: all of them);
    /// the others are passed over, as the real clients do. Returns how many were the user's.
    /// </summary>
    public async Task<int> ChangeAsync(ClaimsPrincipal user, IReadOnlyCollection<string>? hashes,
        Func<CatalogTorrent, OwnerWishes, ChangeOutcome?> change, CancellationToken cancellationToken)
    {
        var count = 0;
        foreach (var hash in await OwnHashesAsync(user, hashes, cancellationToken))
        {
            // Only the caller's own torrents are listed, so the registry hands over exactly the caller's wishes.
            var (outcome, _) = await Registry.ChangeAsync(user, hash, (t, wishes) => change(t, wishes[0]), cancellationToken);
            count += outcome == ChangeOutcome.NotFound ? 0 : 1;
        }
        return count;
    }

    /// <summary>The owner's file priorities, one per file of the torrent (an owner who never chose has none yet).</summary>
    public static List<FilePriority> FilePriorities(CatalogTorrent torrent, OwnerWishes own)
    {
        if (own.FilePriorities.Count != torrent.Files.Count)
        {
            own.FilePriorities = [.. Enumerable.Range(0, torrent.Files.Count).Select(i => i < own.FilePriorities.Count ? own.FilePriorities[i] : Contracts.Torrents.FilePriority.Normal)];
        }
        return own.FilePriorities;
    }

    /// <summary>Changes the user's labels of each of the user's torrents among <paramref name="hashes"/> (null: all).</summary>
    public async Task<int> ChangeLabelsAsync(ClaimsPrincipal user, IReadOnlyCollection<string>? hashes,
        Action<TorrentLabels> change, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        var count = 0;
        foreach (var hash in await OwnHashesAsync(user, hashes, cancellationToken))
        {
            var labels = await store.FindTorrentLabelsAsync(userId, hash, cancellationToken) ?? NewLabels(userId, hash);
            change(labels);
            await store.SaveTorrentLabelsAsync(labels, cancellationToken);
            count++;
        }
        return count;
    }

    /// <summary>Removes the user's ownership of each of the user's torrents among <paramref name="hashes"/>, and the user's labels of it.</summary>
    public async Task<int> RemoveAsync(ClaimsPrincipal user, IReadOnlyCollection<string>? hashes, bool deleteData, CancellationToken cancellationToken)
    {
        var userId = user.GetUserId();
        var count = 0;
        foreach (var hash in await OwnHashesAsync(user, hashes, cancellationToken))
        {
            var (outcome, _) = await Registry.RemoveAsync(user, hash, deleteData, cancellationToken);
            if (outcome != ChangeOutcome.NotFound)
            {
                await store.DeleteTorrentLabelsAsync(userId, hash, cancellationToken);
                count++;
            }
        }
        return count;
    }

    /// <summary>The user's categories (name to save path) and tags, created on first use like qBittorrent does.</summary>
    public async Task EnsureCategoryAsync(string userId, string category, CancellationToken cancellationToken)
    {
        if (category.Length > 0)
        {
            await store.TryAddUserLabelAsync(new UserLabel(userId, UserLabelKinds.Category, category, ""), cancellationToken);
        }
    }

    public async Task EnsureTagsAsync(string userId, IEnumerable<string> tags, CancellationToken cancellationToken)
    {
        foreach (var tag in tags)
        {
            await store.TryAddUserLabelAsync(new UserLabel(userId, UserLabelKinds.Tag, tag), cancellationToken);
        }
    }

    public ICatalogStore Store => store;

    private async Task<IReadOnlyList<string>> OwnHashesAsync(ClaimsPrincipal user, IReadOnlyCollection<string>? hashes, CancellationToken cancellationToken)
    {
        if (hashes is null)
        {
            return (await ListAsync(user.GetUserId(), cancellationToken)).Select(t => t.InfoHash).ToList();
        }
        var own = new List<string>(hashes.Count);
        foreach (var hash in hashes.Distinct(StringComparer.Ordinal))
        {
            if (await FindAsync(user, hash, cancellationToken) is not null)
            {
                own.Add(hash);
            }
        }
        return own;
    }

    public static TorrentLabels NewLabels(string userId, string infoHash) => new() { UserId = userId, InfoHash = infoHash };

    /// <summary>Lower-case 40-hex info-hash, or null.</summary>
    public static string? NormalizeHash(string? value) => value is null ? null : TorrentsApi.NormalizeInfoHash(value.Trim());

    /// <summary>A category or tag name a user may use: 1-255 characters, none of them control characters.</summary>
    public static bool IsValidLabel(string name, bool isTag) =>
        name.Length is > 0 and <= 255 && !name.Any(char.IsControl) && name.Trim() == name
        && (isTag ? !name.Contains(',') : !name.StartsWith('/') && !name.EndsWith('/') && !name.Contains("//", StringComparison.Ordinal) && !name.Contains('\\'));
}
