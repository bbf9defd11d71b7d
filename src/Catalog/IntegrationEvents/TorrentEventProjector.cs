using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.IntegrationEvents;

/// <summary>
/// Folds torrent-events into each torrent's status, and stores the metainfo a magnet torrent fetched from the swarm
/// (a change of desired state: workers then get the metainfo with the next spec).
/// </summary>
public sealed partial class TorrentEventProjector(ICatalogStore store, OutboxSignal outbox, IServiceProvider services, ILogger<TorrentEventProjector> logger)
{
    private const int MaxAttempts = 8;

    public async Task ProjectAsync(TorrentEvent @event, CancellationToken cancellationToken)
    {
        if (@event is TorrentMetadataReceived metadata)
        {
            await StoreMetadataAsync(metadata, cancellationToken);
            return;
        }
        var torrent = await store.FindTorrentAsync(@event.InfoHash, cancellationToken);
        if (torrent is null)
        {
            LogUnknownTorrent(logger, @event.InfoHash, @event.GetType().Name);
            return;
        }
        var status = torrent.Status;
        // Events of one torrent arrive in order (one partition), but a redelivery or a late event of a previous owner can
        // come after newer ones: the worker's sequence says which is newer (wall clocks of two workers disagree). Events
        // from before sequences existed fall back to their timestamps.
        if (@event.Sequence > 0 && status.Sequence > 0
                ? @event.Sequence <= status.Sequence
                : status.UpdatedAt is { } last && @event.OccurredAt < last)
        {
            return;
        }
        var stateBefore = status.State;
        switch (@event)
        {
            case TorrentAdded added:
                status.WorkerId = added.WorkerId;
                status.Error = null;
                break;
            case TorrentProgressed p:
                status.State = p.State;
                status.Progress = p.Progress;
                status.VerifiedBytes = p.VerifiedBytes;
                status.DownloadedBytes = p.DownloadedBytes;
                status.UploadedBytes = p.UploadedBytes;
                status.DownloadRate = p.DownloadRate;
                status.UploadRate = p.UploadRate;
                status.PeersConnected = p.PeersConnected;
                status.PeersTotal = p.PeersTotal;
                status.EtaSeconds = p.EtaSeconds;
                status.FileVerifiedBytes = torrent.Files.Count == p.Files.Count || torrent.Files.Count == 0
                    ? p.Files.Select(f => f.VerifiedBytes).ToList()
                    : status.FileVerifiedBytes;
                status.Trackers = [.. p.Trackers];
                status.Peers = p.Peers is { } peers ? [.. peers] : [];
                if (p.PieceBitfield is { } bits && p.PieceCount > 0 && bits.Length == (p.PieceCount + 7) / 8)
                {
                    status.PieceBitfield = bits;
                    status.PieceCount = p.PieceCount;
                    status.PiecesUpdatedAt = p.OccurredAt;
                }
                if (p.State != TorrentState.Error)
                {
                    status.Error = null;
                }
                break;
            case TorrentPiecesVerified v when v.PieceCount > 0:
                status.Progress = (double)v.VerifiedCount / v.PieceCount;
                break;
            case TorrentCompleted completed:
                status.Progress = 1;
                status.VerifiedBytes = completed.TotalBytes;
                status.EtaSeconds = 0;
                status.DownloadRate = 0;
                status.FileVerifiedBytes = torrent.Files.Select(f => f.Length).ToList();
                break;
            case TorrentSeeding:
                status.State = TorrentState.Seeding;
                break;
            case TorrentFailed failed:
                status.State = TorrentState.Error;
                status.Error = failed.Reason;
                break;
            case TorrentStateChanged changed:
                status.State = changed.State;
                status.WorkerId = changed.WorkerId;
                if (changed.State != TorrentState.Error)
                {
                    status.Error = null;
                }
                break;
            case TorrentQueueChanged queue:
                status.State = queue.State;
                status.QueuePosition = queue.Position;
                break;
            case TorrentRemoved:
                status.State = TorrentState.Removed;
                status.DownloadRate = 0;
                status.UploadRate = 0;
                status.PeersConnected = 0;
                break;
            default:
                return;
        }
        if (status.State is not (TorrentState.Downloading or TorrentState.Seeding or TorrentState.FetchingMetadata))
        {
            // Peers are of a running torrent: a paused, stopped or removed one has none, whatever was last reported.
            status.Peers = [];
        }
        TrackSeedingTime(status, stateBefore, @event.OccurredAt);
        status.UpdatedAt = @event.OccurredAt;
        status.Sequence = Math.Max(status.Sequence, @event.Sequence);
        await store.UpdateStatusAsync(torrent.InfoHash, status, cancellationToken);
    }

    /// <summary>
    /// Seeding time from the states the events report, so it follows the torrent across workers and restarts (an engine
    /// counts only its own). Share limits (<see cref="ShareLimitEnforcer"/>) read it.
    /// </summary>
    internal static void TrackSeedingTime(Model.TorrentStatus status, TorrentState? before, DateTimeOffset at)
    {
        var seeding = status.State == TorrentState.Seeding;
        if (before == TorrentState.Seeding && !seeding && status.SeedingSince is { } since)
        {
            status.SeededSeconds += Math.Max(0, (long)(at - since).TotalSeconds);
            status.SeedingSince = null;
        }
        else if (seeding && status.SeedingSince is null)
        {
            status.SeedingSince = at;
        }
    }

    private async Task StoreMetadataAsync(TorrentMetadataReceived metadata, CancellationToken cancellationToken)
    {
        ParsedTorrent parsed;
        try
        {
            parsed = services.GetRequiredService<ITorrentParser>().ParseTorrent(metadata.Metainfo);
        }
        catch (TorrentParseException e)
        {
            LogBadMetadata(logger, metadata.InfoHash, e.Message);
            return;
        }
        if (parsed.InfoHash != metadata.InfoHash)
        {
            LogBadMetadata(logger, metadata.InfoHash, $"its info-hash is {parsed.InfoHash}");
            return;
        }
        for (var attempt = 0; attempt < MaxAttempts; attempt++)
        {
            var torrent = await store.FindTorrentAsync(metadata.InfoHash, cancellationToken);
            if (torrent is null || torrent.Metainfo is not null)
            {
                return;
            }
            var expected = torrent.Revision;
            var detached = TorrentRegistry.SetMetainfo(torrent, parsed, metadata.Metainfo);
            torrent.Revision = expected + 1;
            if (await store.TryReplaceTorrentAsync(torrent, expected, cancellationToken))
            {
                if (detached.Count > 0)
                {
                    LogPrivateDetached(logger, metadata.InfoHash, detached.Count);
                }
                outbox.Notify();
                return;
            }
        }
        throw new InvalidOperationException($"Torrent {metadata.InfoHash} kept changing while its metadata was stored.");
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Ignored {EventType} of unknown torrent {InfoHash}")]
    private static partial void LogUnknownTorrent(ILogger logger, string infoHash, string eventType);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Torrent {InfoHash} turned out private: only the owner it announces for keeps it, {Count} other owner(s) detached")]
    private static partial void LogPrivateDetached(ILogger logger, string infoHash, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored metadata of {InfoHash}: {Reason}")]
    private static partial void LogBadMetadata(ILogger logger, string infoHash, string reason);
}
