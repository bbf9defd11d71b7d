using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.PeerWorker.Extensions;
using TorrentEdge.PeerWorker.Infrastructure;
using TorrentEdge.PeerWorker.IntegrationEvents;
using TorrentEdge.PeerWorker.Ownership;
using TorrentEdge.PeerWorker.Runtime;

namespace TorrentEdge.PeerWorker.Reconciliation;

/// <summary>
/// Drives the runtime toward the desired set, like a Kubernetes controller: one loop reads a queue of info-hashes
/// (each queued at most once while it waits, so a burst of specs collapses into one pass that sees the latest),
/// compares the desired spec with what it last applied, and does the difference. Failures are retried with back-off.
/// </summary>
public sealed partial class TorrentReconciler(
    DesiredTorrents desired,
    OwnedTorrents owned,
    ITorrentRuntime runtime,
    IMetainfoSource metainfo,
    TorrentEventOutbox outbox,
    IOptions<PeerWorkerOptions> options,
    TimeProvider time,
    ILogger<TorrentReconciler> logger,
    TorrentFence? fence = null) : BackgroundService
{
    private readonly Channel<WorkItem> _work = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, byte> _queued = new(StringComparer.Ordinal);
    // Loop-only state: what was applied to the runtime, and the failure streaks.
    private readonly Dictionary<string, Applied> _applied = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _unstartable = new(StringComparer.Ordinal);
    private volatile bool _running;
    private CancellationToken _stopping;

    private PeerWorkerOptions Options => options.Value;

    /// <summary>Queues <paramref name="infoHash"/> for a pass (no-op while it is already queued).</summary>
    public void Enqueue(string infoHash)
    {
        if (_queued.TryAdd(infoHash, 0) && !_work.Writer.TryWrite(new WorkItem(infoHash, null)))
        {
            _queued.TryRemove(infoHash, out _);
        }
    }

    /// <summary>Completes once every pass queued before this call is done (the queue is FIFO).</summary>
    public Task FlushAsync()
    {
        if (!_running)
        {
            return Task.CompletedTask;
        }
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _work.Writer.TryWrite(new WorkItem(null, done)) ? done.Task : Task.CompletedTask;
    }

    /// <summary>Queues passes for torrents that left the desired set (they stop) and waits for them, bounded.</summary>
    public bool Release(IReadOnlyList<string> infoHashes, TimeSpan timeout)
    {
        foreach (var hash in infoHashes)
        {
            Enqueue(hash);
        }
        // Called on the consumer's thread: blocking it is the point, so no other replica starts these torrents on the
        // shared folder before they stopped here (the rebalance waits for the revocation to return).
        return FlushAsync().Wait(timeout);
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _running = true;
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _stopping = stoppingToken;
        await runtime.InitializeAsync(stoppingToken).ConfigureAwait(false);
        LogStarted(logger, Options.ReplicaId);
        try
        {
            await foreach (var item in _work.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                if (item.Done is not null)
                {
                    item.Done.TrySetResult();
                    continue;
                }
                var hash = item.InfoHash!;
                _queued.TryRemove(hash, out _);
                try
                {
                    await ReconcileAsync(hash, stoppingToken).ConfigureAwait(false);
                    _failures.Remove(hash);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception ex)
                {
                    Failed(hash, ex);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            _running = false;
            // Whoever waits on a barrier (a revocation) must not hang on a loop that ended.
            while (_work.Reader.TryRead(out var left))
            {
                left.Done?.TrySetResult();
            }
        }
    }

    /// <summary>On host shutdown: the loop ends, then every torrent stops with its resume data saved and a final status.</summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _work.Writer.TryComplete();
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        foreach (var hash in _applied.Keys.ToList())
        {
            try
            {
                var snapshot = runtime.GetSnapshot(hash);
                await runtime.StopAsync(hash, cancellationToken).ConfigureAwait(false);
                var owners = _applied[hash].Owners;
                if (snapshot is not null)
                {
                    // Stopped here: no peers left, and the last piece map for whoever takes it on.
                    outbox.Enqueue(TorrentEventTranslator.ToProgressed(snapshot, owners, maxPeers: 0, pieces: snapshot.PieceBitfield));
                }
                outbox.Enqueue(new TorrentStateChanged(hash, owners, TorrentState.Stopped, Options.ReplicaId));
            }
            catch (Exception ex)
            {
                LogStopFailed(logger, ex, hash);
            }
            fence?.Release(hash);
            Forget(hash);
        }
    }

    private async Task ReconcileAsync(string hash, CancellationToken cancellationToken)
    {
        var spec = desired.Get(hash);
        _applied.TryGetValue(hash, out var applied);

        if (spec is null)
        {
            // No longer ours (partition revoked): stop cleanly so the next owner continues from the resume data.
            if (applied is not null)
            {
                await runtime.StopAsync(hash, cancellationToken).ConfigureAwait(false);
                fence?.Release(hash);
                Forget(hash);
                // Its next owner reserves sequence numbers above this replica's; taking it back later must do the same.
                outbox.Released(hash);
                LogStopped(logger, hash);
            }
            return;
        }

        if (spec.Removed)
        {
            var folder = Options.GetTorrentFolder(hash);
            // Also when not running here: a previous owner may have died before deleting the data.
            if (applied is not null || spec.DeleteData)
            {
                // Not running here (its owner died first): claimed now, so a frozen earlier owner cannot write it back.
                if (fence is not null && !fence.HasClaim(hash))
                {
                    fence.Claim(hash);
                }
                var removed = await runtime.RemoveAsync(hash, folder, spec.DeleteData, cancellationToken).ConfigureAwait(false);
                fence?.Drop(hash);
                if (removed || applied is not null)
                {
                    outbox.Enqueue(new TorrentRemoved(hash, spec.Owners, spec.DeleteData));
                    LogRemoved(logger, hash, spec.DeleteData);
                }
                Forget(hash);
            }
            return;
        }

        if (applied is null)
        {
            await StartAsync(hash, spec, cancellationToken).ConfigureAwait(false);
            return;
        }

        applied.Owners = spec.Owners;
        owned.Set(hash, spec.Owners);
        if (applied.Paused != spec.Paused)
        {
            if (spec.Paused)
            {
                await runtime.PauseAsync(hash, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await runtime.ResumeAsync(hash, cancellationToken).ConfigureAwait(false);
            }
            applied.Paused = spec.Paused;
        }
        if (applied.Priority != spec.Priority)
        {
            await runtime.SetPriorityAsync(hash, spec.Priority, cancellationToken).ConfigureAwait(false);
            applied.Priority = spec.Priority;
        }
        if (!applied.FilePriorities.SequenceEqual(spec.FilePriorities))
        {
            await runtime.SetFilePrioritiesAsync(hash, spec.FilePriorities, cancellationToken).ConfigureAwait(false);
            applied.FilePriorities = spec.FilePriorities;
        }
        if (applied.Encryption != spec.Encryption)
        {
            await runtime.SetEncryptionAsync(hash, spec.Encryption, cancellationToken).ConfigureAwait(false);
            applied.Encryption = spec.Encryption;
        }
        if (spec.RecheckGeneration > applied.RecheckGeneration)
        {
            await runtime.RecheckAsync(hash, cancellationToken).ConfigureAwait(false);
            applied.RecheckGeneration = spec.RecheckGeneration;
        }
    }

    private async Task StartAsync(string hash, TorrentSpecChanged spec, CancellationToken cancellationToken)
    {
        if (_unstartable.TryGetValue(hash, out var revision) && revision == spec.Revision)
        {
            return;
        }
        var bytes = spec.Metainfo;
        if (bytes is null && spec.MetainfoAvailable)
        {
            bytes = await metainfo.GetMetainfoAsync(hash, cancellationToken).ConfigureAwait(false);
            if (bytes is null && spec.MagnetUri is null)
            {
                throw new InvalidOperationException("Catalog has no metainfo for this torrent yet.");
            }
        }
        if (bytes is null && string.IsNullOrEmpty(spec.MagnetUri))
        {
            // Nothing to start from until a newer spec brings it: say so once, do not retry.
            _unstartable[hash] = spec.Revision;
            outbox.Enqueue(new TorrentFailed(hash, spec.Owners, "The spec has neither metainfo nor a magnet link."));
            return;
        }

        // Owners first, so the runtime's first events can already be routed; the claim before the engine touches a file.
        owned.Set(hash, spec.Owners);
        try
        {
            fence?.Claim(hash);
            await runtime.StartAsync(
                new TorrentStartRequest(hash, bytes, bytes is null ? spec.MagnetUri : null, Options.GetTorrentFolder(hash),
                    spec.Paused, spec.Priority, spec.FilePriorities) { Encryption = spec.Encryption },
                cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            owned.Remove(hash);
            fence?.Release(hash);
            throw;
        }
        _unstartable.Remove(hash);
        _applied[hash] = new Applied
        {
            Owners = spec.Owners,
            Paused = spec.Paused,
            Priority = spec.Priority,
            FilePriorities = spec.FilePriorities,
            Encryption = spec.Encryption,
            // Starting checks against the resume data anyway; a recheck requested before this start is covered by it.
            RecheckGeneration = spec.RecheckGeneration,
        };
        var snapshot = runtime.GetSnapshot(hash);
        outbox.Enqueue(new TorrentAdded(hash, spec.Owners, snapshot?.Name ?? spec.Name, snapshot?.TotalBytes ?? 0, Options.ReplicaId));
        LogStartedTorrent(logger, hash, bytes is null ? "magnet" : "metainfo");
    }

    private void Failed(string hash, Exception ex)
    {
        var streak = _failures.GetValueOrDefault(hash) + 1;
        _failures[hash] = streak;
        var delay = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, streak - 1), Options.MaxRetryDelay.TotalSeconds));
        LogFailed(logger, ex, hash, streak, delay.TotalSeconds);
        if (streak == 1 && desired.Get(hash) is { } spec)
        {
            outbox.Enqueue(new TorrentFailed(hash, spec.Owners, ex.Message));
        }
        _ = RetryLaterAsync(hash, delay);
    }

    private async Task RetryLaterAsync(string hash, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, time, _stopping).ConfigureAwait(false);
            Enqueue(hash);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Forget(string hash)
    {
        _applied.Remove(hash);
        _failures.Remove(hash);
        _unstartable.Remove(hash);
        owned.Remove(hash);
    }

    private readonly record struct WorkItem(string? InfoHash, TaskCompletionSource? Done);

    /// <summary>What the loop last applied to one running torrent.</summary>
    private sealed class Applied
    {
        public required IReadOnlyList<string> Owners { get; set; }
        public bool Paused { get; set; }
        public TorrentPriority Priority { get; set; }
        public required IReadOnlyList<FilePriority> FilePriorities { get; set; }
        public int RecheckGeneration { get; set; }
        public PeerEncryption? Encryption { get; set; }
    }

    [LoggerMessage(LogLevel.Information, "Reconciler of replica {ReplicaId} started")]
    private static partial void LogStarted(ILogger logger, string replicaId);

    [LoggerMessage(LogLevel.Information, "Started {InfoHash} from its {Source}")]
    private static partial void LogStartedTorrent(ILogger logger, string infoHash, string source);

    [LoggerMessage(LogLevel.Information, "Stopped {InfoHash}: no longer owned here")]
    private static partial void LogStopped(ILogger logger, string infoHash);

    [LoggerMessage(LogLevel.Information, "Removed {InfoHash} (data deleted: {DataDeleted})")]
    private static partial void LogRemoved(ILogger logger, string infoHash, bool dataDeleted);

    [LoggerMessage(LogLevel.Warning, "Reconciling {InfoHash} failed ({Streak} in a row); again in {DelaySeconds} s")]
    private static partial void LogFailed(ILogger logger, Exception exception, string infoHash, int streak, double delaySeconds);

    [LoggerMessage(LogLevel.Error, "Stopping {InfoHash} at shutdown failed")]
    private static partial void LogStopFailed(ILogger logger, Exception exception, string infoHash);
}
