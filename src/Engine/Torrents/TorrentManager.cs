using System.Diagnostics;
using System.Net;
using System.Threading.Channels;
using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Queueing;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Storage.Resume;
using TorrentEdge.Engine.Throttling;

namespace TorrentEdge.Engine.Torrents;

/// <summary>
/// One torrent: a state machine driven by a single loop that reads a channel of work (peer messages,
/// piece hashes, ticks, commands), so its state has one writer and needs no locks. Network, disk and
/// hashing run off the loop and post their results back.
/// </summary>
public sealed partial class TorrentManager : IAsyncDisposable
{
    private static readonly TimeSpan TickInterval = TimeSpan.FromSeconds(1);
    private readonly Channel<Work> _work = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<PeerSession> _peers = [];
    private readonly HashSet<PeerSession> _pending = [];
    private readonly PeerCandidates _candidates;
    private readonly Dictionary<IPEndPoint, long> _bannedUntil = [];
    private readonly HashSet<PeerId> _bannedIds = [];
    private readonly Random _random = new();
    private readonly Stopwatch _sinceStart = Stopwatch.StartNew();
    private readonly List<int> _verifiedBatch = [];
    private Task? _loop;
    private Task? _ticker;
    private TorrentStatus _status;
    private TorrentState _state = TorrentState.Queued;
    private bool _allowedToRun;
    private bool _userPaused;
    private string? _error;
    private long _downloaded;
    private long _uploadedBase;
    private long _uploadedClosed;
    private long _downloadedAtLastTick;
    private long _uploadedAtLastTick;
    private long _downloadRate;
    private long _uploadRate;
    private int _hashFailures;
    private int _ticks;
    private DateTimeOffset _lastProgressEvent;
    private DateTimeOffset? _completedAt;
    private long _lastResumeSaveTicks;
    private bool _resumeDirty;
    private bool _disposed;

    // Piece state, valid once the metadata is known.
    private BitField? _have;
    private bool[] _wanted = [];
    private PieceState[] _pieceState = [];
    private ActivePiece?[] _active = [];
    private readonly List<ActivePiece> _activeList = [];
    private FilePriority[] _filePriorities = [];

    internal TorrentManager(ClientEngine engine, InfoHash infoHash, TorrentMetainfo? metainfo, string savePath, AddTorrentOptions options)
    {
        Engine = engine;
        _candidates = new PeerCandidates(engine.Options.MaxPeerCandidates);
        InfoHash = infoHash;
        Metainfo = metainfo;
        SavePath = Path.GetFullPath(savePath);
        QueuePriority = options.QueuePriority;
        _userPaused = options.Paused;
        AddedOrder = engine.NextAddedOrder();
        SeedRatioLimit = options.SeedRatioLimit;
        SeedTimeLimit = options.SeedTimeLimit;
        Sequential = options.Sequential;
        SuperSeed = options.SuperSeed;
        (UploadLimiter, DownloadLimiter) = engine.RateLimits.CreateForTorrent(options.UploadRateLimit, options.DownloadRateLimit);
        AddedAt = engine.TimeProvider.GetUtcNow();
        DisplayName = metainfo?.Name ?? options.DisplayName ?? infoHash.ToHex();
        Trackers = metainfo?.AnnounceTiers ?? options.Trackers ?? [];
        if (options.FilePriorities is { } fp) _filePriorities = [.. fp];
        foreach (var peer in options.Peers ?? []) AddCandidate(peer);
        _status = BuildStatus();
    }

    internal ClientEngine Engine { get; }

    /// <summary>Pieces are picked in order rather than rarest first.</summary>
    public bool Sequential { get; }

    /// <summary>Super-seeding (BEP 16) while complete: see <see cref="AddTorrentOptions.SuperSeed"/>.</summary>
    public bool SuperSeed { get; }

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

    internal TorrentStorage? Storage { get; private set; }

    internal FrameLimits FrameLimits => Metainfo is null ? FrameLimits.Default : FrameLimits.Default.ForPieceCount(Metainfo.PieceCount);

    /// <summary>The latest snapshot; reading it takes no lock.</summary>
    public TorrentStatus Status => Volatile.Read(ref _status);

    public TorrentState State => Status.State;

    internal bool IsComplete => _have is not null && WantedDone();

    internal bool UserPaused => _userPaused;

    internal int ConnectedPeers => _peers.Count;

    // ---- public control: each posts a command to the loop ----

    /// <summary>Stops transfers; peers are disconnected and resume data saved. Its queue slot goes to the next torrent.</summary>
    public async Task PauseAsync(CancellationToken cancellationToken = default)
    {
        await RunCommandAsync(t => t.DoPause(), cancellationToken).ConfigureAwait(false);
        await Engine.UpdateQueueAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Continues, or waits as Queued until the queue gives it a slot.</summary>
    public async Task ResumeAsync(CancellationToken cancellationToken = default)
    {
        await RunCommandAsync(t => t.DoResume(), cancellationToken).ConfigureAwait(false);
        // The queue passes over paused torrents: without asking it again, one added paused would stay Queued for good.
        await Engine.UpdateQueueAsync(cancellationToken).ConfigureAwait(false);
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
        return Engine.UpdateQueueAsync(cancellationToken);
    }

    /// <summary>Adds a peer to dial (for example one given on the command line or in a magnet's x.pe).</summary>
    public void AddPeer(IPEndPoint endPoint) => Post(new Work(WorkKind.PeersFound, Data: new[] { endPoint }));

    /// <summary>Adds several peers to dial (tracker replies).</summary>
    public void AddPeers(IReadOnlyList<IPEndPoint> endPoints) => Post(new Work(WorkKind.PeersFound, Data: endPoints));

    /// <summary>What the engine's queue last told this torrent (null: nothing yet); read and written under the queue's gate.</summary>
    internal bool? QueueAllowed { get; set; }

    internal Task SetAllowedToRunAsync(bool allowed, CancellationToken cancellationToken) =>
        RunCommandAsync(t => t.DoSetAllowed(allowed), cancellationToken);

    // ---- queue ----

    private long _seedMilliseconds; // written by the loop, read by the queue
    private DateTimeOffset _lastSeedTickAt;
    private bool _seedLimitReached;
    private bool _seedLimitReported;

    /// <summary>Order of addition to the engine; breaks ties in the queue.</summary>
    internal long AddedOrder { get; }

    internal double? SeedRatioLimit { get; }

    internal TimeSpan? SeedTimeLimit { get; }

    /// <summary>Time spent seeding since the torrent was added.</summary>
    internal TimeSpan SeedTime => TimeSpan.FromMilliseconds(Interlocked.Read(ref _seedMilliseconds));

    internal QueueEntry<TorrentManager> ToQueueEntry(long order)
    {
        var status = Status;
        var size = Metainfo?.TotalLength ?? 0;
        var want = UserPaused ? TorrentWant.Paused
            : status.State is TorrentState.Seeding or TorrentState.Finished || Volatile.Read(ref _seedLimitReached) ? TorrentWant.Seed
            : TorrentWant.Download;
        return new QueueEntry<TorrentManager>(this, QueuePriority, order, want,
            SeedRatio: size > 0 ? (double)status.Uploaded / size : 0, SeedTime: SeedTime,
            SeedRatioLimit: SeedRatioLimit, SeedTimeLimit: SeedTimeLimit);
    }

    /// <summary>The torrent reached its seed limit: it stops seeding and stays Finished.</summary>
    internal Task FinishSeedingAsync(CancellationToken cancellationToken) =>
        RunCommandAsync(t => t.DoFinishSeeding(), cancellationToken);

    private void DoFinishSeeding()
    {
        if (_seedLimitReached || _userPaused || _state == TorrentState.Error) return;
        Volatile.Write(ref _seedLimitReached, true);
        StopTransfers();
        SetState(TorrentState.Finished);
    }

    /// <summary>On each tick: counts seeding time and asks the queue to look again once a seed limit is reached.</summary>
    private void TrackSeeding()
    {
        var now = Now;
        var seeding = _state is TorrentState.Seeding or TorrentState.Finished && !_seedLimitReached;
        if (seeding && _lastSeedTickAt != default)
            Interlocked.Add(ref _seedMilliseconds, (long)(now - _lastSeedTickAt).TotalMilliseconds);
        _lastSeedTickAt = now;
        if (!seeding || _seedLimitReported) return;
        if (QueuePolicy.IsPastSeedLimits(ToQueueEntry(0), Engine.QueueLimits))
        {
            _seedLimitReported = true;
            Engine.RequestQueueUpdate();
        }
    }

    private Task RunCommandAsync(Action<TorrentManager> action, CancellationToken cancellationToken)
    {
        var command = new TorrentCommand(action);
        if (_loop is null || _loop.IsCompleted || !_work.Writer.TryWrite(new Work(WorkKind.Command, Data: command)))
            return Task.FromException(new ObjectDisposedException(nameof(TorrentManager), "The torrent is stopped."));
        return command.Completion.Task.WaitAsync(cancellationToken);
    }

    internal void Post(in Work work) => _work.Writer.TryWrite(work);

    internal ActivePiece? GetActivePiece(int index)
    {
        var active = Volatile.Read(ref _active);
        return (uint)index < (uint)active.Length ? Volatile.Read(ref active[index]) : null;
    }

    // ---- lifecycle ----

    internal void Start(bool allowedToRun)
    {
        _allowedToRun = allowedToRun;
        _loop = Task.Run(RunLoopAsync);
        _ticker = Task.Run(TickAsync);
        Post(new Work(WorkKind.Command, Data: new TorrentCommand(t => t.OnStarted())));
    }

    private async Task TickAsync()
    {
        using var timer = new PeriodicTimer(TickInterval, Engine.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
                Post(new Work(WorkKind.Tick));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunLoopAsync()
    {
        var reader = _work.Reader;
        try
        {
            while (await reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                while (reader.TryRead(out var work))
                {
                    try
                    {
                        Handle(work);
                    }
                    catch (Exception e) when (e is not OperationCanceledException)
                    {
                        if (work.Data is TorrentCommand failed) failed.Completion.TrySetException(e);
                        else Fail("internal error: " + e.Message);
                    }
                }
                AfterBatch();
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Handle(in Work work)
    {
        switch (work.Kind)
        {
            case WorkKind.Tick: OnTick(); break;
            case WorkKind.Command:
            {
                var command = (TorrentCommand)work.Data!;
                command.Action(this);
                command.Completion.TrySetResult();
                break;
            }
            case WorkKind.PeersFound:
                foreach (var ep in (IReadOnlyList<IPEndPoint>)work.Data!) AddCandidate(ep);
                break;
            case WorkKind.CheckDone: OnCheckDone((CheckResult)work.Data!); break;
            case WorkKind.PieceHashed: OnPieceHashed(work.Index, (HashResult)work.Data!); break;
            case WorkKind.AnnounceDone: OnAnnounceDone((Trackers.AnnounceResult)work.Data!); break;
            case WorkKind.ReadFailed: OnReadFailed(work.Index); break;
            case WorkKind.PieceRechecked: OnPieceRechecked(work.Index, (bool)work.Data!); break;
            default:
                if (work.Peer is { } peer) HandlePeerWork(peer, work);
                break;
        }
    }

    private void OnStarted()
    {
        Engine.Emit(new TorrentAddedEvent(InfoHash, Now, DisplayName));
        if (Metainfo is not null) InitialisePieces(Metainfo);
        if (_userPaused) SetState(TorrentState.Paused);
        else if (!_allowedToRun) SetState(TorrentState.Queued);
        else Begin();
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
        else if (_seedLimitReached && WantedDone()) SetState(TorrentState.Finished);
        else
        {
            SetState(WantedDone() ? CompleteState() : TorrentState.Downloading);
            ConnectToCandidates();
            StartTrackers();
        }
    }

    private void DoPause()
    {
        if (_userPaused) return;
        _userPaused = true;
        StopTransfers();
        SetState(TorrentState.Paused);
    }

    private void DoResume()
    {
        if (!_userPaused && _state is not TorrentState.Error) return;
        _userPaused = false;
        _error = null;
        if (_allowedToRun) Begin();
        else SetState(TorrentState.Queued);
    }

    private void DoSetAllowed(bool allowed)
    {
        if (_allowedToRun == allowed) return;
        _allowedToRun = allowed;
        if (_userPaused || _state == TorrentState.Error) return;
        if (allowed) Begin();
        else
        {
            StopTransfers();
            SetState(TorrentState.Queued);
        }
    }

    private void StopTransfers()
    {
        StopTrackers();
        foreach (var p in _peers) p.Close();
        foreach (var p in _pending) p.Close();
        SaveResume();
    }

    private void Fail(string message)
    {
        _error = message;
        StopTransfers();
        SetState(TorrentState.Error);
        Engine.Emit(new TorrentErrorEvent(InfoHash, Now, message));
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
        if (removeResume && MayWrite) Engine.ResumeStore?.Delete(InfoHash.ToHex());
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
        _work.Writer.TryComplete();
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

    private DateTimeOffset Now => Engine.TimeProvider.GetUtcNow();

    private TorrentState CompleteState() => _have is not null && _have.AllTrue ? TorrentState.Seeding : TorrentState.Finished;

    private void SetState(TorrentState state)
    {
        var from = _state;
        if (from == state) return;
        _state = state;
        PublishStatus();
        Engine.Emit(new TorrentStateChangedEvent(InfoHash, Now, from, state));
        if (state == TorrentState.Seeding) Engine.Emit(new TorrentSeedingEvent(InfoHash, Now));
        Engine.OnTorrentStateChanged(this);
    }

    private void PublishStatus() => Volatile.Write(ref _status, BuildStatus());

    /// <summary>Payload bytes uploaded since the torrent was added, including before restarts (loop).</summary>
    private long UploadedNow()
    {
        var uploaded = _uploadedBase + _uploadedClosed;
        foreach (var p in _peers) uploaded += p.Uploaded;
        return uploaded;
    }

    private TorrentStatus BuildStatus()
    {
        long done = 0, wanted = 0;
        var fileDone = Array.Empty<long>();
        if (Metainfo is { } m && _have is { } have)
        {
            for (var i = 0; i < m.PieceCount; i++)
            {
                if (!_wanted[i]) continue;
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
            State = _state,
            HasMetadata = Metainfo is not null,
            BytesDone = done,
            BytesWanted = wanted,
            TotalLength = Metainfo?.TotalLength ?? 0,
            PieceCount = Metainfo?.PieceCount ?? 0,
            PiecesHave = _have?.TrueCount ?? 0,
            Progress = wanted == 0 ? (Metainfo is null ? 0 : 1) : (double)done / wanted,
            Downloaded = _downloaded,
            Uploaded = uploaded,
            DownloadRate = _downloadRate,
            UploadRate = _uploadRate,
            Peers = _peers.Count,
            // Known: every address heard of (trackers, PEX, magnets) plus connected peers that dialled in from elsewhere.
            PeersKnown = _candidates.Count + _peers.Count(p => p.EndPoint is not { } ep || !_candidates.Contains(ep)),
            Seeds = _peers.Count(p => p.PeerHasAll || (p.PeerHave?.AllTrue ?? false)),
            HashFailures = _hashFailures,
            ProtocolErrors = _protocolErrors,
            MetadataHashFailures = _metadataHashFailures,
            BannedPeers = _bannedUntil.Count,
            QueuePriority = QueuePriority,
            FileBytesDone = fileDone,
            Error = _error,
            CompletedAt = _completedAt,
            SeedingTime = SeedTime,
        };
    }

    private sealed class TorrentCommand(Action<TorrentManager> action)
    {
        public Action<TorrentManager> Action { get; } = action;
        public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private enum PieceState : byte
    {
        Missing,
        Hashing,
        Have,
    }

    private sealed record CheckResult(BitField Have, TorrentStorage Storage, string? Error, bool FromResume = false);

    private sealed record HashResult(bool Passed, PeerSession[] Contributors, string? WriteError);
}
