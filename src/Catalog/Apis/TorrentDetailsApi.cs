using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using TorrentEdge.Catalog.Apis.Compat;
using TorrentEdge.Catalog.Apis.QBittorrent;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.Model;

namespace TorrentEdge.Catalog.Apis;

/// <summary>
/// What a detail panel shows beyond the torrent view: its peers and its piece map, as the worker's progress events last
/// reported them (bounded: the busiest peers, and a bitfield sent when it changed at most every few seconds), and the
/// caller's share limits, which <see cref="ShareLimitEnforcer"/> enforces.
/// </summary>
public static class TorrentDetailsApi
{
    public static IEndpointRouteBuilder MapTorrentDetailsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/torrents/{infoHash}").WithTags("Torrents").RequireAuthorization();
        api.MapGet("/peers", GetPeers);
        api.MapGet("/pieces", GetPieces);
        api.MapGet("/share-limits", GetShareLimits);
        api.MapPut("/share-limits", SetShareLimits);
        return app;
    }

    internal static async Task<Results<Ok<PeerListView>, ProblemHttpResult>> GetPeers(
        string infoHash, ClaimsPrincipal user, TorrentRegistry registry, CancellationToken cancellationToken)
    {
        if (TorrentsApi.NormalizeInfoHash(infoHash) is not { } hash)
        {
            return InvalidHash();
        }
        if (await registry.FindVisibleAsync(user, hash, cancellationToken) is not { } torrent)
        {
            return Unknown(hash);
        }
        var s = torrent.Status;
        return TypedResults.Ok(new PeerListView(s.Peers.Select(p => new PeerView(
            p.Address, p.Client, p.Source, p.Incoming, p.Encrypted, p.Progress, p.DownloadRate, p.UploadRate,
            p.DownloadedBytes, p.UploadedBytes, p.PeerChoking, p.AmChoking)).ToList(), s.PeersConnected, s.PeersTotal, s.UpdatedAt));
    }

    internal static async Task<Results<Ok<PieceMapView>, ProblemHttpResult>> GetPieces(
        string infoHash, ClaimsPrincipal user, TorrentRegistry registry, CancellationToken cancellationToken)
    {
        if (TorrentsApi.NormalizeInfoHash(infoHash) is not { } hash)
        {
            return InvalidHash();
        }
        if (await registry.FindVisibleAsync(user, hash, cancellationToken) is not { } torrent)
        {
            return Unknown(hash);
        }
        var s = torrent.Status;
        var bits = s.PieceBitfield;
        var have = bits is null ? 0 : bits.Sum(b => System.Numerics.BitOperations.PopCount(b));
        return TypedResults.Ok(new PieceMapView(s.PieceCount, have, bits is null ? null : Convert.ToBase64String(bits), s.PiecesUpdatedAt));
    }

    internal static async Task<Results<Ok<ShareLimitsView>, ProblemHttpResult>> GetShareLimits(
        string infoHash, ClaimsPrincipal user, ClientTorrents clients, TimeProvider time, CancellationToken cancellationToken)
    {
        if (TorrentsApi.NormalizeInfoHash(infoHash) is not { } hash)
        {
            return InvalidHash();
        }
        if (await clients.FindAsync(user, hash, cancellationToken) is not { } t)
        {
            return Problems.NotFound("Unknown torrent", $"No torrent {hash} of yours.");
        }
        return TypedResults.Ok(await ViewAsync(t.Torrent, t.Labels, user, clients, time, cancellationToken));
    }

    /// <summary>
    /// Sets the caller's share limits of one torrent: a ratio and minutes of seeding; null or -2 uses the caller's defaults
    /// (qBittorrent's preferences), -1 means no limit.
    /// </summary>
    internal static async Task<Results<Ok<ShareLimitsView>, ProblemHttpResult>> SetShareLimits(
        string infoHash, ShareLimitsRequest? request, ClaimsPrincipal user, ClientTorrents clients, TimeProvider time, CancellationToken cancellationToken)
    {
        if (TorrentsApi.NormalizeInfoHash(infoHash) is not { } hash)
        {
            return InvalidHash();
        }
        var ratio = request?.RatioLimit ?? TorrentLabels.UseGlobalLimit;
        var minutes = request?.SeedingTimeLimit ?? TorrentLabels.UseGlobalLimit;
        if (!(ratio >= 0 || ratio == TorrentLabels.NoLimit || ratio == TorrentLabels.UseGlobalLimit) || double.IsNaN(ratio) || ratio > 1e6)
        {
            return Problems.BadRequest("Invalid ratio limit", "ratioLimit is a ratio from 0, -1 for no limit, or -2 (or null) for your default.");
        }
        if (!(minutes >= 0 || minutes is TorrentLabels.NoLimit or TorrentLabels.UseGlobalLimit) || minutes > 525_600 * 100)
        {
            return Problems.BadRequest("Invalid seeding time limit", "seedingTimeLimit is minutes from 0, -1 for no limit, or -2 (or null) for your default.");
        }
        if (await clients.FindAsync(user, hash, cancellationToken) is not { } t)
        {
            return Problems.NotFound("Unknown torrent", $"No torrent {hash} of yours.");
        }
        await clients.ChangeLabelsAsync(user, [hash], l =>
        {
            l.RatioLimit = ratio;
            l.SeedingTimeLimit = minutes;
        }, cancellationToken);
        t.Labels.RatioLimit = ratio;
        t.Labels.SeedingTimeLimit = minutes;
        return TypedResults.Ok(await ViewAsync(t.Torrent, t.Labels, user, clients, time, cancellationToken));
    }

    private static async Task<ShareLimitsView> ViewAsync(
        CatalogTorrent torrent, TorrentLabels labels, ClaimsPrincipal user, ClientTorrents clients, TimeProvider time, CancellationToken cancellationToken)
    {
        var prefs = await QBittorrentPreferences.LoadAsync(clients.Store, user.GetUserId(), cancellationToken);
        var (ratio, minutes) = ShareLimitEnforcer.Resolve(labels, prefs);
        return new ShareLimitsView(labels.RatioLimit, labels.SeedingTimeLimit, ratio, minutes,
            Math.Round(ShareLimitEnforcer.Ratio(torrent), 3), torrent.Status.SeedingSeconds(time.GetUtcNow()));
    }

    private static ProblemHttpResult InvalidHash() => Problems.BadRequest("Invalid info-hash", "An info-hash is 40 hexadecimal characters.");

    private static ProblemHttpResult Unknown(string hash) => Problems.NotFound("Unknown torrent", $"No torrent {hash} of yours.");
}

/// <summary>A connected peer; <paramref name="Source"/> is tracker, incoming, magnet, manual, pex, dht or unknown.</summary>
public sealed record PeerView(
    string Address, string Client, string Source, bool Incoming, bool Encrypted, double Progress, long DownloadRate, long UploadRate,
    long DownloadedBytes, long UploadedBytes, bool PeerChoking, bool AmChoking);

/// <summary>The busiest connected peers the worker reported last, with the torrent's peer counts.</summary>
public sealed record PeerListView(IReadOnlyList<PeerView> Items, int Connected, int Known, DateTimeOffset? UpdatedAt);

/// <summary>
/// The pieces the torrent has: <paramref name="Bitfield"/> is base64 of a BitTorrent bitfield (piece 0 in the high bit of
/// the first byte), null until a worker reported one.
/// </summary>
public sealed record PieceMapView(int PieceCount, int Have, string? Bitfield, DateTimeOffset? UpdatedAt);

public sealed record ShareLimitsRequest(double? RatioLimit, long? SeedingTimeLimit);

/// <summary>
/// The caller's share limits of a torrent as set (-2: the caller's default, -1: none) and as they apply (null: none),
/// with the torrent's ratio and seeding seconds now.
/// </summary>
public sealed record ShareLimitsView(
    double RatioLimit, long SeedingTimeLimit, double? EffectiveRatioLimit, long? EffectiveSeedingTimeLimit, double Ratio, long SeedingSeconds);
