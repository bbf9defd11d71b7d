using Microsoft.Extensions.Options;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.PeerWorker.Extensions;
using TorrentEdge.PeerWorker.Reconciliation;
using TorrentEdge.PeerWorker.Runtime;

namespace TorrentEdge.PeerWorker.IntegrationEvents;

/// <summary>
/// Turns what the runtime reports into torrent-events with the owners of each torrent: state changes at once,
/// progress at most once per <see cref="PeerWorkerOptions.ProgressInterval"/> per torrent (and at once after a completion
/// or a change of state, so the last figures published are the final ones), piece batches, completion,
/// seeding, errors, queue changes, and the metadata of magnets (so Catalog stores it).
/// Events of torrents this replica no longer owns are dropped: the reconciler reports their end itself.
/// </summary>
public sealed partial class TorrentEventTranslator(
    ITorrentRuntime runtime,
    OwnedTorrents owned,
    TorrentEventOutbox outbox,
    PeerWorkerMetrics metrics,
    IOptions<PeerWorkerOptions> options,
    TimeProvider time,
    ILogger<TorrentEventTranslator> logger) : BackgroundService
{
    private readonly Dictionary<string, long> _lastProgress = new(StringComparer.Ordinal);
    // The bitfield last sent per torrent and when: the engine makes a new array only when it changes.
    private readonly Dictionary<string, (byte[] Bitfield, long At)> _lastPieces = new(StringComparer.Ordinal);

    // Up to this many events that the runtime had ready at once go to the outbox in one journal write (one fsync).
    private const int MaxBatch = 512;
    private List<TorrentEvent>? _batch;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            var events = runtime.ReadEventsAsync(stoppingToken).GetAsyncEnumerator(stoppingToken);
            await using (events.ConfigureAwait(false))
            {
                _batch = new List<TorrentEvent>(MaxBatch);
                while (true)
                {
                    var next = events.MoveNextAsync();
                    // Whatever the runtime already has ready joins the batch; the batch goes out before waiting for more.
                    if (!next.IsCompleted || _batch.Count >= MaxBatch)
                    {
                        FlushBatch();
                    }
                    if (!await next.ConfigureAwait(false))
                    {
                        break;
                    }
                    try
                    {
                        Translate(events.Current);
                    }
                    catch (Exception ex)
                    {
                        LogTranslateFailed(logger, ex, events.Current.GetType().Name, events.Current.InfoHash);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            FlushBatch();
            _batch = null;
        }
    }

    private void FlushBatch()
    {
        if (_batch is { Count: > 0 })
        {
            try
            {
                outbox.EnqueueRange(_batch);
            }
            catch (Exception ex)
            {
                // As when a single event could not be written: logged, and the translator goes on with the next ones.
                LogTranslateFailed(logger, ex, "batch of " + _batch.Count, _batch[0].InfoHash);
            }
            _batch.Clear();
        }
    }

    private void Enqueue(TorrentEvent e)
    {
        if (_batch is not null)
        {
            _batch.Add(e);
        }
        else
        {
            outbox.Enqueue(e);
        }
    }

    /// <summary>Maps one runtime event; public for tests.</summary>
    public void Translate(RuntimeEvent e)
    {
        if (e is RuntimePiecesVerified verified)
        {
            metrics.PiecesVerified(verified.Pieces.Count);
        }
        if (!owned.TryGetOwners(e.InfoHash, out var owners))
        {
            return;
        }
        var worker = options.Value.ReplicaId;
        TorrentEvent? mapped = e switch
        {
            RuntimeStateChanged s => new TorrentStateChanged(s.InfoHash, owners, s.State, worker),
            RuntimeProgress p => ThrottledProgress(p, owners),
            RuntimePiecesVerified v => new TorrentPiecesVerified(v.InfoHash, owners, v.Pieces, v.VerifiedCount, v.PieceCount),
            RuntimeMetadataReceived m => new TorrentMetadataReceived(m.InfoHash, owners, m.Name, m.TotalBytes, m.FileCount, m.Metainfo),
            RuntimeCompleted c => new TorrentCompleted(c.InfoHash, owners, c.TotalBytes) { Name = NameOf(c.InfoHash) },
            RuntimeSeeding s => Seeding(s, owners),
            RuntimeFailed f => new TorrentFailed(f.InfoHash, owners, f.Reason) { Name = NameOf(f.InfoHash) },
            RuntimeQueueChanged q => new TorrentQueueChanged(q.InfoHash, owners, worker, q.Position, q.State),
            _ => null,
        };
        if (mapped is not null)
        {
            Enqueue(mapped);
        }
        // A completion or a change of state ends a phase: its final numbers (downloaded bytes, rates) go out at once.
        // Throttled, they could be dropped for good: an idle seed or a paused torrent reports no more progress, and
        // readers (Catalog's status) would keep the last figures from before, e.g. 0 bytes downloaded.
        if (e is RuntimeCompleted or RuntimeStateChanged && runtime.GetSnapshot(e.InfoHash) is { } snapshot)
        {
            _lastProgress[e.InfoHash] = time.GetTimestamp();
            Enqueue(ToProgressed(snapshot, owners, options.Value.StatusPeers, PiecesToSend(snapshot, final: true)));
        }
    }

    // Clients show the name beside every completion, seeding and error (the original design's payloads carry it).
    private string? NameOf(string infoHash) => runtime.GetSnapshot(infoHash)?.Name is { Length: > 0 } name ? name : null;

    private TorrentSeeding Seeding(RuntimeSeeding s, IReadOnlyList<string> owners)
    {
        var snapshot = runtime.GetSnapshot(s.InfoHash);
        return new TorrentSeeding(s.InfoHash, owners)
        {
            Name = snapshot?.Name is { Length: > 0 } name ? name : null,
            Ratio = snapshot is null ? 0 : Ratio(snapshot),
            UploadedBytes = snapshot?.UploadedBytes ?? 0,
        };
    }

    /// <summary>Uploaded over downloaded bytes; a torrent that had its data from the start is measured against its size (as Transmission does).</summary>
    public static double Ratio(RuntimeSnapshot s)
    {
        var basis = s.DownloadedBytes > 0 ? s.DownloadedBytes : s.TotalBytes;
        return basis > 0 ? (double)s.UploadedBytes / basis : 0;
    }

    private TorrentProgressed? ThrottledProgress(RuntimeProgress p, IReadOnlyList<string> owners)
    {
        var now = time.GetTimestamp();
        if (_lastProgress.TryGetValue(p.InfoHash, out var last) && time.GetElapsedTime(last, now) < options.Value.ProgressInterval)
        {
            return null;
        }
        _lastProgress[p.InfoHash] = now;
        return ToProgressed(p.Snapshot, owners, options.Value.StatusPeers, PiecesToSend(p.Snapshot, final: false));
    }

    /// <summary>The bitfield when it changed since it was last sent, and the interval passed (or the phase ended); else null.</summary>
    private byte[]? PiecesToSend(RuntimeSnapshot s, bool final)
    {
        if (s.PieceBitfield is not { } bits)
        {
            return null;
        }
        var now = time.GetTimestamp();
        if (_lastPieces.TryGetValue(s.InfoHash, out var last)
            && (ReferenceEquals(last.Bitfield, bits) || !final && time.GetElapsedTime(last.At, now) < options.Value.PieceMapInterval))
        {
            return null;
        }
        _lastPieces[s.InfoHash] = (bits, now);
        return bits;
    }

    /// <summary>
    /// A progress event from a snapshot, with the <paramref name="maxPeers"/> busiest peers and <paramref name="pieces"/>
    /// (null: the bitfield is not sent this time).
    /// </summary>
    public static TorrentProgressed ToProgressed(RuntimeSnapshot s, IReadOnlyList<string> owners, int maxPeers = 25, byte[]? pieces = null)
    {
        long? eta = s.DownloadRate > 0 && s.WantedBytes > s.VerifiedBytes ? (s.WantedBytes - s.VerifiedBytes) / s.DownloadRate : null;
        return new TorrentProgressed(
            s.InfoHash, owners, s.State, s.Progress, s.VerifiedBytes, s.TotalBytes, s.DownloadedBytes, s.UploadedBytes,
            s.DownloadRate, s.UploadRate, s.Peers, Math.Max(s.PeersKnown, s.Peers), eta, s.Files, s.Trackers)
        {
            Name = s.Name is { Length: > 0 } ? s.Name : null,
            Peers = [.. s.PeerList.OrderByDescending(p => p.DownloadRate + p.UploadRate).ThenByDescending(p => p.DownloadedBytes + p.UploadedBytes).Take(maxPeers)],
            PieceBitfield = pieces,
            PieceCount = s.PieceCount,
        };
    }

    [LoggerMessage(LogLevel.Error, "Translating {EventType} of {InfoHash} failed")]
    private static partial void LogTranslateFailed(ILogger logger, Exception exception, string eventType, string infoHash);
}
