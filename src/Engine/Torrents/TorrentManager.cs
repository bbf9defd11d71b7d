using System.Diagnostics;
using System.Net;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Queueing;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Throttling;

namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// One torrent: a thin state machine driven by a single loop that takes typed messages from a bounded queue (peer
/// events, hash verdicts, ticks, commands), so its state has one writer and needs no locks. Network, disk and hashing
/// run off the loop and post their results back; peers, metadata and trackers are components it owns.
/// </summary>
public sealed partial class TorrentManager : IAsyncDisposable, IBlockExchangeOwner, IMetadataExchangeOwner, IPeerSessionOwner
{
    private static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(1);
    private readonly LoopQueue _queue;
    private readonly CancellationTokenSource _stopping = new();
    private readonly PeerRoster<PeerSession> _roster;
    // The roster's lists under short names: the loop walks them everywhere.
    private readonly List<PeerSession> _peers;
    private readonly HashSet<PeerSession> _pending;
    private readonly Random _random = new();
    private int _tickPending;
    private readonly Stopwatch _sinceStart = Stopwatch.StartNew();
    private Task? _loop;
    private Task? _ticker;
    private readonly TorrentLifecycle _lifecycle;
    private readonly TransferStats _stats = new();
    private int _hashFailures;
    private int _ticks;
    private DateTimeOffset? _completedAt;
    private readonly ResumeSchedule _resumeSchedule;
    private readonly BlockExchange _exchange;
    private readonly StorageWork _storageWork;
    private readonly MetadataExchange _metadataExchange;
    private readonly TorrentReports _reports;
    private bool _disposed;

    private FilePriority[] _filePriorities = [];

    internal TorrentManager(ITorrentHost host, InfoHash infoHash, TorrentMetainfo? metainfo, string savePath, AddTorrentOptions options)
    {
        Host = host;
        _queue = new LoopQueue(host.Options.MaxLoopQueueLength);
        _roster = new PeerRoster<PeerSession>(host.Options, host.TimeProvider, _random);
        _peers = _roster.Connected;
        _pending = _roster.Pending;
        _resumeSchedule = new ResumeSchedule(host.Options.ResumeSaveInterval, host.TimeProvider);
        InfoHash = infoHash;
        Metainfo = metainfo;
        SavePath = Path.GetFullPath(savePath);
        QueuePriority = options.QueuePriority;
        _lifecycle = new TorrentLifecycle(options.Paused);
        AddedOrder = host.NextAddedOrder();
        SeedRatioLimit = options.SeedRatioLimit;
        SeedTimeLimit = options.SeedTimeLimit;
        Sequential = options.Sequential;
        SuperSeed = options.SuperSeed;
        _encryption = options.Encryption ?? host.Options.Encryption;
        (UploadLimiter, DownloadLimiter) = host.RateLimits.CreateForTorrent(options.UploadRateLimit, options.DownloadRateLimit);
        _exchange = new BlockExchange(this, infoHash, host.TimeProvider, _pieces, _peers, DownloadLimiter,
            new SuperSeeding(options.SuperSeed, _random), _random, options.Sequential);
        _storageWork = new StorageWork(Post, Track, () => MayWrite, _stopping.Token);
        _metadataExchange = new MetadataExchange(infoHash, this);
        AddedAt = host.TimeProvider.GetUtcNow();
        DisplayName = metainfo?.Name ?? options.DisplayName ?? infoHash.ToHex();
        Trackers = metainfo?.AnnounceTiers ?? options.Trackers ?? [];
        if (options.FilePriorities is { } fp) _filePriorities = [.. fp];
        // Peers given with a magnet are its x.pe; with a .torrent they were named by hand.
        foreach (var peer in options.Peers ?? []) AddCandidate(peer, metainfo is null ? PeerSource.Magnet : PeerSource.Manual);
        _reports = new TorrentReports(BuildStatus());
    }

    /// <summary>The engine, seen through the little a torrent needs of it.</summary>
    internal ITorrentHost Host { get; }

    /// <summary>Pieces are picked in order rather than rarest first.</summary>
    public bool Sequential { get; }

    /// <summary>Super-seeding (BEP 16) while complete: see <see cref="AddTorrentOptions.SuperSeed"/>.</summary>
    public bool SuperSeed { get; }

    /// <summary>This torrent's message stream encryption policy (its own, or the engine's); see <see cref="SetEncryptionAsync"/>.</summary>
    public TorrentEdge.Engine.Encryption.EncryptionPolicy Encryption => _encryption;

    // Read by the listener's threads (which torrent takes an MSE handshake), written by the loop.
    private volatile TorrentEdge.Engine.Encryption.EncryptionPolicy _encryption;

    /// <summary>
    /// Changes this torrent's encryption policy: new connections follow it, and connected peers it would not admit
    /// (plaintext ones under require, encrypted ones under disable) are closed.
    /// </summary>
    public Task SetEncryptionAsync(TorrentEdge.Engine.Encryption.EncryptionPolicy policy, CancellationToken cancellationToken = default) =>
        RunCommandAsync(t =>
        {
            t._encryption = policy;
            foreach (var peer in t._peers)
            {
                if (policy == TorrentEdge.Engine.Encryption.EncryptionPolicy.Require ? !peer.Connection.IsEncrypted
                    : policy == TorrentEdge.Engine.Encryption.EncryptionPolicy.Disable && peer.Connection.IsEncrypted)
                    peer.Close();
            }
        }, cancellationToken);

    /// <summary>Upload bytes pass this torrent's bucket and the engine's.</summary>
    internal BandwidthLimiter UploadLimiter { get; }

    /// <summary>Received block bytes pass this torrent's bucket and the engine's before the session reads on.</summary>
    internal BandwidthLimiter DownloadLimiter { get; }

    public InfoHash InfoHash { get; }

    /// <summary>The metainfo; null until a magnet's metadata arrives.</summary>
    public TorrentMetainfo? Metainfo { get; private set; }

    /// <summary>The folder the torrent's name (file or folder) is created in.</summary>
    public string SavePath { get; }

    public string DisplayName { get; private set; }

    public QueuePriority QueuePriority { get; private set; }

    public DateTimeOffset AddedAt { get; }

    internal IReadOnlyList<IReadOnlyList<string>> Trackers { get; private set; }

    internal IPieceStore? Storage { get; private set; }

    internal FrameLimits FrameLimits => Metainfo is null ? FrameLimits.Default : FrameLimits.Default.ForPieceCount(Metainfo.PieceCount);

    /// <summary>The latest snapshot; reading it takes no lock.</summary>
    public TorrentStatus Status => _reports.Status;

    public TorrentState State => Status.State;

    internal bool IsComplete => _pieces.Have is not null && WantedDone();

    internal bool UserPaused => _lifecycle.UserPaused;

    internal int ConnectedPeers => _peers.Count;

    // ---- public control: each posts a command to the loop ----

    /// <summary>Stops transfers; peers are disconnected and resume data saved. Its queue slot goes to the next torrent.</summary>
    public async Task PauseAsync(CancellationToken cancellationToken = default)
    {
        await RunCommandAsync(t => t.DoPause(), cancellationToken).ConfigureAwait(false);
        await Host.UpdateQueueAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Continues, or waits as Queued until the queue gives it a slot.</summary>
    public async Task ResumeAsync(CancellationToken cancellationToken = default)
    {
        await RunCommandAsync(t => t.DoResume(), cancellationToken).ConfigureAwait(false);
        // The queue passes over paused torrents: without asking it again, one added paused would stay Queued for good.
        await Host.UpdateQueueAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Hashes every piece on disk again and continues from what is there.</summary>
    public Task RecheckAsync(CancellationToken cancellationToken = default) => RunCommandAsync(t => t.StartCheck(forceRecheck: true), cancellationToken);

    /// <summary>Sets per-file priorities (one per file, in the torrent's order); skipped files are not downloaded.</summary>
    public Task SetFilePrioritiesAsync(IReadOnlyList<FilePriority> priorities, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(priorities);
        var copy = priorities.ToArray();
        return RunCommandAsync(t => t.DoSetFilePriorities(copy), cancellationToken);
    }

    public Task SetQueuePriorityAsync(QueuePriority priority, CancellationToken cancellationToken = default)
    {
        QueuePriority = priority;
        return Host.UpdateQueueAsync(cancellationToken);
    }

    /// <summary>Adds a peer to dial (for example one given on the command line or in a magnet's x.pe).</summary>
    public void AddPeer(IPEndPoint endPoint) => Post(new PeersFoundMessage([endPoint], PeerSource.Manual));

    /// <summary>Adds several peers to dial, found by <paramref name="source"/> (shown in peer lists).</summary>
    public void AddPeers(IReadOnlyList<IPEndPoint> endPoints, PeerSource source = PeerSource.Manual) => Post(new PeersFoundMessage(endPoints, source));

    /// <summary>What the engine's queue last told this torrent (null: nothing yet); read and written under the queue's gate.</summary>
    internal bool? QueueAllowed { get; set; }

    internal Task SetAllowedToRunAsync(bool allowed, CancellationToken cancellationToken) =>
        RunCommandAsync(t => t.DoSetAllowed(allowed), cancellationToken);

    // ---- queue ----

    private bool _seedLimitReported;

    /// <summary>Order of addition to the engine; breaks ties in the queue.</summary>
    internal long AddedOrder { get; }

    internal double? SeedRatioLimit { get; }

    internal TimeSpan? SeedTimeLimit { get; }

    /// <summary>Time spent seeding since the torrent was added.</summary>
    internal TimeSpan SeedTime => _stats.SeedTime;

    internal QueueEntry<TorrentManager> ToQueueEntry(long order)
    {
        var status = Status;
        var size = Metainfo?.TotalLength ?? 0;
        var want = UserPaused ? TorrentWant.Paused
            : status.State is TorrentState.Seeding or TorrentState.Finished || _lifecycle.SeedLimitReached ? TorrentWant.Seed
            : TorrentWant.Download;
        return new QueueEntry<TorrentManager>(this, QueuePriority, order, want,
            SeedRatio: size > 0 ? (double)status.Uploaded / size : 0, SeedTime: SeedTime,
            SeedRatioLimit: SeedRatioLimit, SeedTimeLimit: SeedTimeLimit);
    }

    /// <summary>The torrent reached its seed limit: it stops seeding and stays Finished.</summary>
    internal Task FinishSeedingAsync(CancellationToken cancellationToken) =>
        RunCommandAsync(t => t.DoFinishSeeding(), cancellationToken);

    private void DoFinishSeeding() => Apply(_lifecycle.FinishSeeding());

    /// <summary>On each tick: counts seeding time and asks the queue to look again once a seed limit is reached.</summary>
    private void TrackSeeding()
    {
        var seeding = _lifecycle.CountsSeedTime;
        _stats.CountSeeding(seeding, Now);
        if (!seeding || _seedLimitReported) return;
        if (QueuePolicy.IsPastSeedLimits(ToQueueEntry(0), Host.QueueLimits))
        {
            _seedLimitReported = true;
            Host.RequestQueueUpdate();
        }
    }

    private Task RunCommandAsync(Action<TorrentManager> action, CancellationToken cancellationToken)
    {
        var command = new CommandMessage(action);
        if (_loop is null || _loop.IsCompleted || !_queue.Post(command))
            return Task.FromException(new ObjectDisposedException(nameof(TorrentManager), "The torrent is stopped."));
        return command.Completion.Task.WaitAsync(cancellationToken);
    }

    internal bool Post(in LoopItem item) => _queue.Post(item);

    internal bool Post(TorrentMessage message) => _queue.Post(message);

    /// <summary>The loop's queue, which sessions stop reading for while it is full.</summary>
    internal LoopQueue Queue => _queue;

    /// <summary>The most items the loop's queue has held (<see cref="EngineOptions.MaxLoopQueueLength"/> plus one per connection at most).</summary>
    public int LoopQueueHighWater => _queue.HighWater;

    internal ActivePiece? GetActivePiece(int index) => _pieces.GetActive(index);

    // ---- lifecycle ----

    internal void Start(bool allowedToRun)
    {
        _lifecycle.Initialise(allowedToRun);
        _loop = Task.Run(RunLoopAsync);
        _ticker = Task.Run(TickAsync);
        Post(new CommandMessage(t => t.OnStarted()));
    }

    private async Task TickAsync()
    {
        using var timer = new PeriodicTimer(TickInterval, Host.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
                // One tick waits at most: a loop held up for seconds needs one catch-up, not a pile of them.
                if (Interlocked.Exchange(ref _tickPending, 1) == 0) Post(TickMessage.Instance);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunLoopAsync()
    {
        var queue = _queue;
        try
        {
            while (await queue.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                while (queue.TryRead(out var item))
                {
                    try
                    {
                        Handle(item);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        if (item.Message is CommandMessage failed) failed.Completion.TrySetException(e);
                        else Fail("internal error: " + e.Message);
                    }
                }
                AfterBatch();
                queue.SignalRoom();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The one dispatch: peer events by kind (<see cref="HandlePeerEvent"/>), every other message by type.</summary>
    private void Handle(in LoopItem item)
    {
        switch (item.Message)
        {
            case null: HandlePeerEvent(item.Peer); break;
            case TickMessage:
                Volatile.Write(ref _tickPending, 0);
                OnTick();
                break;
            case CommandMessage command:
                command.Action(this);
                command.Completion.TrySetResult();
                break;
            case PeersFoundMessage found:
                foreach (var ep in found.EndPoints) AddCandidate(ep, found.Source);
                break;
            case CheckDoneMessage check: OnCheckDone(check); break;
            case PieceHashedMessage hashed: OnPieceHashed(hashed); break;
            case AnnounceDoneMessage announced: OnAnnounceDone(announced.Result); break;
            case ReadFailedMessage failed: OnReadFailed(failed.Index); break;
            case PieceRecheckedMessage rechecked: OnPieceRechecked(rechecked.Index, rechecked.Passed); break;
        }
    }

    private void OnStarted()
    {
        Host.Emit(new TorrentAddedEvent(InfoHash, Now, DisplayName));
        if (Metainfo is not null) InitialisePieces(Metainfo);
        Apply(_lifecycle.Started());
    }

    /// <summary>Carries out a lifecycle decision: stop transfers, enter a state, begin (in that order).</summary>
    private void Apply(in LifecycleStep step)
    {
        if (step.StopTransfers) StopTransfers();
        if (step.Enter is { } state) SetState(state);
        if (step.Begin) Begin();
    }

    /// <summary>Starts or continues transfers: check the files when needed, else download or seed.</summary>
    private void Begin()
    {
        if (Metainfo is null)
        {
            SetState(TorrentState.FetchingMetadata);
            ConnectToCandidates();
            StartTrackers();
            return;
        }
        if (Storage is null) StartCheck(forceRecheck: false);
        else if (_lifecycle.SeedLimitReached && WantedDone()) SetState(TorrentState.Finished);
        else
        {
            SetState(WantedDone() ? CompleteState() : TorrentState.Downloading);
            ConnectToCandidates();
            StartTrackers();
        }
    }

    private void DoPause() => Apply(_lifecycle.Pause());

    private void DoResume() => Apply(_lifecycle.Resume());

    private void DoSetAllowed(bool allowed) => Apply(_lifecycle.SetAllowed(allowed));

    private void StopTransfers()
    {
        StopTrackers();
        foreach (var p in _peers) p.Close();
        foreach (var p in _pending) p.Close();
        SaveResume();
    }

    private void Fail(string message)
    {
        Apply(_lifecycle.Fail(message));
        Host.Emit(new TorrentErrorEvent(InfoHash, Now, message));
    }

    /// <summary>Stops the loop and every connection; saves resume data; deletes the files when asked.</summary>
    internal async Task StopAsync(bool removeData, bool removeResume)
    {
        if (_disposed) return;
        try
        {
            await RunCommandAsync(t =>
            {
                t.StopTransfers();
                t.SetState(TorrentState.Removed);
            }, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is ObjectDisposedException or TimeoutException)
        {
        }
        await ShutdownAsync().ConfigureAwait(false);
        if (removeResume && MayWrite) Host.ResumeStore?.Delete(InfoHash.ToHex());
        if (removeData && Storage is not null)
        {
            try
            {
                await Storage.DeleteFilesAsync(CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is DirectoryNotFoundException or FileNotFoundException)
            {
                // Nothing was written yet.
            }
            catch (StorageFencedException)
            {
                // Another engine holds the torrent now; whether its files go is for that one to decide.
            }
        }
        if (Storage is not null) await Storage.DisposeAsync().ConfigureAwait(false);
    }

    private async Task ShutdownAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _stopping.CancelAsync().ConfigureAwait(false);
        _queue.Complete();
        try
        {
            if (_loop is not null) await _loop.ConfigureAwait(false);
            if (_ticker is not null) await _ticker.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
        foreach (var p in _peers.Concat(_pending).ToArray()) p.Close();
        var deadline = Task.Delay(TimeSpan.FromSeconds(5));
        while (_running.Count > 0)
        {
            Task[] running;
            lock (_running) running = [.. _running];
            if (running.Length == 0) break;
            if (await Task.WhenAny(Task.WhenAll(running), deadline).ConfigureAwait(false) == deadline) break;
        }
        if (Storage is not null) await Storage.FlushAsync(CancellationToken.None).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(removeData: false, removeResume: false).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private readonly HashSet<Task> _running = [];

    /// <summary>Tracks background work (sessions, hashing) so shutdown waits for it, bounded.</summary>
    private void Track(Task task)
    {
        lock (_running) _running.Add(task);
        task.ContinueWith(t =>
        {
            lock (_running) _running.Remove(t);
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    // ---- state and status ----

    private DateTimeOffset Now => Host.TimeProvider.GetUtcNow();

    private TorrentState CompleteState() => _pieces.Have is not null && _pieces.Have.AllTrue ? TorrentState.Seeding : TorrentState.Finished;

    private void SetState(TorrentState state)
    {
        if (!_lifecycle.TryEnter(state, out var from)) return;
        PublishStatus();
        Host.Emit(new TorrentStateChangedEvent(InfoHash, Now, from, state));
        if (state == TorrentState.Seeding) Host.Emit(new TorrentSeedingEvent(InfoHash, Now));
        Host.OnTorrentStateChanged(this);
    }

    private void PublishStatus() => _reports.Publish(BuildStatus());

    /// <summary>Payload bytes uploaded since the torrent was added, including before restarts (loop).</summary>
    private long UploadedNow() => _stats.Uploaded(_peers);

    private TorrentStatus BuildStatus()
    {
        long done = 0, wanted = 0;
        var fileDone = Array.Empty<long>();
        if (Metainfo is { } m && _pieces.Have is { } have)
        {
            for (var i = 0; i < m.PieceCount; i++)
            {
                if (!_pieces.Wanted[i]) continue;
                var len = m.GetPieceLength(i);
                wanted += len;
                if (have[i]) done += len;
            }
            if (Storage is not null)
            {
                fileDone = new long[m.Files.Count];
                Storage.Layout.GetVerifiedBytesPerFile(have, fileDone);
            }
        }
        var uploaded = UploadedNow();
        return new TorrentStatus
        {
            InfoHash = InfoHash,
            Name = DisplayName,
            State = _lifecycle.State,
            HasMetadata = Metainfo is not null,
            BytesDone = done,
            BytesWanted = wanted,
            TotalLength = Metainfo?.TotalLength ?? 0,
            PieceCount = Metainfo?.PieceCount ?? 0,
            PiecesHave = _pieces.Have?.TrueCount ?? 0,
            Progress = wanted == 0 ? (Metainfo is null ? 0 : 1) : (double)done / wanted,
            Downloaded = _stats.Downloaded,
            Uploaded = uploaded,
            DownloadRate = _stats.DownloadRate,
            UploadRate = _stats.UploadRate,
            Peers = _peers.Count,
            EncryptedPeers = _peers.Count(p => p.Connection.IsEncrypted),
            // Known: every address heard of (trackers, PEX, magnets) plus connected peers that dialled in from elsewhere.
            PeersKnown = _roster.Candidates.Count + _peers.Count(p => p.EndPoint is not { } ep || !_roster.Candidates.Contains(ep)),
            Seeds = _peers.Count(p => p.PeerHasAll || (p.PeerHave?.AllTrue ?? false)),
            HashFailures = _hashFailures,
            ProtocolErrors = _protocolErrors,
            MetadataHashFailures = _metadataHashFailures,
            BannedPeers = _roster.BannedCount,
            QueuePriority = QueuePriority,
            FileBytesDone = fileDone,
            Error = _lifecycle.Error,
            CompletedAt = _completedAt,
            SeedingTime = SeedTime,
        };
    }

}
