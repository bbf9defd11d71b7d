using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Queueing;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Storage.Resume;
using TorrentEdge.Engine.Throttling;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine;

/// <summary>
/// The BitTorrent engine: holds torrents, accepts incoming peers, keeps the download queue, and
/// reports what happens as a stream of <see cref="TorrentEvent"/>s. Every operation is async and
/// each torrent runs on its own loop.
/// </summary>
public sealed class ClientEngine : IAsyncDisposable, ITorrentHost
{
    private readonly ConcurrentDictionary<InfoHash, TorrentManager> _torrents = new();
    private readonly Channel<TorrentEvent> _events = Channel.CreateUnbounded<TorrentEvent>(new UnboundedChannelOptions { SingleReader = false });
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _queueGate = new(1, 1);
    private IPeerListener? _listener;
    private Task? _acceptLoop;
    private int _connections;
    private bool _disposed;

    public ClientEngine(EngineOptions? options = null, IMeterFactory? meterFactory = null)
    {
        Options = options ?? new EngineOptions();
        PeerId = PeerId.Generate();
        ResumeStore = Options.ResumeDirectory is { } dir ? new ResumeDataStore(dir) : null;
        PieceStores = Options.PieceStores ?? new FilePieceStoreFactory(TorrentStorageOptions.Default with { DirectWrites = Options.DirectWrites });
        ConnectionFactory = Options.ConnectionFactory ?? SocketPeerTransport.Default;
        QueueLimits = new QueueLimits
        {
            MaxActiveDownloads = Options.MaxActiveDownloads,
            MaxActiveSeeds = Options.MaxActiveSeeds,
            SeedRatioLimit = Options.SeedRatioLimit,
            SeedTimeLimit = Options.SeedTimeLimit,
        };
        RateLimits = new GlobalRateLimits(Options.UploadRateLimit, Options.DownloadRateLimit, Options.TimeProvider);
        Metrics = new EngineMetrics(this, meterFactory);
        Trackers = new TrackerCoordinator(Options.Destinations);
    }

    public EngineOptions Options { get; }

    /// <summary>Our peer id: -TE0100- and random characters.</summary>
    public PeerId PeerId { get; }

    /// <summary>Where peers can reach us, once <see cref="StartAsync"/> ran (null when not listening).</summary>
    public IPEndPoint? ListenEndPoint { get; private set; }

    public EngineMetrics Metrics { get; }

    /// <summary>Every event of every torrent, in order per torrent. One consumer should drain it.</summary>
    public ChannelReader<TorrentEvent> Events => _events.Reader;

    public IReadOnlyCollection<TorrentManager> Torrents => (IReadOnlyCollection<TorrentManager>)_torrents.Values;

    internal TimeProvider TimeProvider => Options.TimeProvider;
    internal ResumeDataStore? ResumeStore { get; }

    internal IPieceStoreFactory PieceStores { get; }
    internal IPeerConnectionFactory ConnectionFactory { get; }
    internal QueueLimits QueueLimits { get; }

    private long _addedCounter;

    internal long NextAddedOrder() => Interlocked.Increment(ref _addedCounter);

    /// <summary>The upload and download buckets every torrent shares.</summary>
    internal GlobalRateLimits RateLimits { get; }
    internal TrackerCoordinator Trackers { get; }

    /// <summary>Starts listening for incoming peers (when <see cref="EngineOptions.ListenEndPoint"/> is set).</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_listener is not null || Options.ListenEndPoint is null) return Task.CompletedTask;
        _listener = (Options.ListenerFactory ?? SocketPeerTransport.Default).Create(Options.ListenEndPoint);
        _listener.Start();
        ListenEndPoint = _listener.LocalEndPoint;
        _acceptLoop = AcceptLoopAsync(_listener, _stopping.Token);
        StartDht();
        StartLocalDiscovery();
        return Task.CompletedTask;
    }

    /// <summary>Reads every event as an async stream until <paramref name="cancellationToken"/> fires.</summary>
    public async IAsyncEnumerable<TorrentEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await _events.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            while (_events.Reader.TryRead(out var e))
                yield return e;
    }

    /// <summary>Adds a torrent from its metainfo and starts it (or queues it).</summary>
    public async Task<TorrentManager> AddAsync(TorrentMetainfo metainfo, AddTorrentOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(metainfo);
        return await AddCoreAsync(metainfo.InfoHash, metainfo, options ?? new AddTorrentOptions(), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds a .torrent file.</summary>
    public async Task<TorrentManager> AddTorrentFileAsync(string path, AddTorrentOptions? options = null, CancellationToken cancellationToken = default)
    {
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return await AddAsync(TorrentMetainfo.Parse(bytes), options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Adds a magnet link: the metadata is fetched from peers (its x.pe peers and trackers) first.</summary>
    public async Task<TorrentManager> AddMagnetAsync(Magnet.MagnetLink magnet, AddTorrentOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(magnet);
        options ??= new AddTorrentOptions();
        var peers = (options.Peers ?? []).Concat(magnet.Peers.OfType<IPEndPoint>()).ToArray();
        options = options with
        {
            Peers = peers,
            DisplayName = options.DisplayName ?? magnet.DisplayName,
            Trackers = options.Trackers ?? magnet.AnnounceTiers,
        };
        return await AddCoreAsync(magnet.InfoHash, null, options, cancellationToken).ConfigureAwait(false);
    }

    private Task<TorrentManager> AddCoreAsync(InfoHash infoHash, TorrentMetainfo? metainfo, AddTorrentOptions options, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        cancellationToken.ThrowIfCancellationRequested();
        if (_torrents.TryGetValue(infoHash, out var existing)) return Task.FromResult(existing);
        if (options.Peers is { Count: > 0 } given && !Options.Destinations.IsUnrestricted)
        {
            // Peers named by whoever added the torrent (a magnet's x.pe) are dialled on their say-so: only where the
            // destination policy allows, and the others never (not even a SYN).
            options = options with { Peers = given.Where(p => Options.Destinations.Check(p.Address).Allowed).ToArray() };
        }
        var savePath = options.SavePath ?? Options.DownloadDirectory;
        // Only files need the folder; a store elsewhere (memory) must leave the disk alone.
        if (PieceStores is FilePieceStoreFactory) Directory.CreateDirectory(savePath);
        var torrent = new TorrentManager(this, infoHash, metainfo, savePath, options);
        if (!_torrents.TryAdd(infoHash, torrent)) return Task.FromResult(_torrents[infoHash]);
        torrent.Start(allowedToRun: false);
        // Not awaited: it waits as Queued until the pass decides, a moment later. Awaiting made adding n torrents one
        // after another cost n passes over all of them (1,000 torrents: 277 MB of garbage, 89 MiB RSS at rest); this way
        // the adds that arrive while a pass runs share the next one.
        RequestQueueUpdate();
        return Task.FromResult(torrent);
    }

    public TorrentManager? Find(InfoHash infoHash) => _torrents.GetValueOrDefault(infoHash);

    public TorrentStatus? GetStatus(InfoHash infoHash) => Find(infoHash)?.Status;

    public Task PauseAsync(InfoHash infoHash, CancellationToken cancellationToken = default) => Get(infoHash).PauseAsync(cancellationToken);

    public Task ResumeAsync(InfoHash infoHash, CancellationToken cancellationToken = default) => Get(infoHash).ResumeAsync(cancellationToken);

    public Task RecheckAsync(InfoHash infoHash, CancellationToken cancellationToken = default) => Get(infoHash).RecheckAsync(cancellationToken);

    public Task SetFilePrioritiesAsync(InfoHash infoHash, IReadOnlyList<FilePriority> priorities, CancellationToken cancellationToken = default) =>
        Get(infoHash).SetFilePrioritiesAsync(priorities, cancellationToken);

    public Task SetQueuePriorityAsync(InfoHash infoHash, QueuePriority priority, CancellationToken cancellationToken = default) =>
        Get(infoHash).SetQueuePriorityAsync(priority, cancellationToken);

    /// <summary>Sets one torrent's message stream encryption policy (see <see cref="TorrentManager.SetEncryptionAsync"/>).</summary>
    public Task SetEncryptionAsync(InfoHash infoHash, Encryption.EncryptionPolicy policy, CancellationToken cancellationToken = default) =>
        Get(infoHash).SetEncryptionAsync(policy, cancellationToken);

    /// <summary>Removes a torrent; with <paramref name="deleteData"/> its files are deleted too. Its resume data goes either way.</summary>
    public async Task RemoveAsync(InfoHash infoHash, bool deleteData, CancellationToken cancellationToken = default)
    {
        if (!_torrents.TryRemove(infoHash, out var torrent)) return;
        await torrent.StopAsync(deleteData, removeResume: true).WaitAsync(cancellationToken).ConfigureAwait(false);
        Emit(new TorrentRemovedEvent(infoHash, TimeProvider.GetUtcNow(), deleteData));
        await UpdateQueueAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Stops a torrent and takes it out of the engine, keeping its files and saving its resume data, so adding it
    /// again resumes where it stopped. Does nothing when the torrent is not in the engine.
    /// </summary>
    public async Task StopAsync(InfoHash infoHash, CancellationToken cancellationToken = default)
    {
        if (!_torrents.TryRemove(infoHash, out var torrent)) return;
        await torrent.DisposeAsync().AsTask().WaitAsync(cancellationToken).ConfigureAwait(false);
        Emit(new TorrentRemovedEvent(infoHash, TimeProvider.GetUtcNow(), DataDeleted: false));
        await UpdateQueueAsync(cancellationToken).ConfigureAwait(false);
    }

    private TorrentManager Get(InfoHash infoHash) =>
        Find(infoHash) ?? throw new KeyNotFoundException($"No torrent {infoHash.ToHex()} in the engine.");

    // ---- queue ----

    /// <summary>
    /// Applies <see cref="QueuePolicy.Decide"/>: the first <see cref="EngineOptions.MaxActiveDownloads"/> incomplete
    /// torrents (by queue priority, then age) download, complete ones seed (up to <see cref="EngineOptions.MaxActiveSeeds"/>),
    /// the rest wait; a torrent past its seed ratio or seed time limit stops seeding (state Finished).
    /// </summary>
    /// <remarks>
    /// Passes are coalesced: the returned task completes once a pass that started after this call has applied its
    /// decisions, and every request made while a pass runs is served by the one next pass. Cancelling only stops the wait.
    /// </remarks>
    internal Task UpdateQueueAsync(CancellationToken cancellationToken)
    {
        TaskCompletionSource next;
        var start = false;
        lock (_queueRequestGate)
        {
            next = _queueRequested ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (!_queueRunning)
            {
                _queueRunning = true;
                start = true;
            }
        }
        if (start) _ = Task.Run(RunQueuePassesAsync, CancellationToken.None);
        return next.Task.WaitAsync(cancellationToken);
    }

    // High priority first, then by when added.
    private static readonly Comparison<TorrentManager> QueueOrder = static (a, b) =>
    {
        var byPriority = ((int)b.QueuePriority).CompareTo((int)a.QueuePriority);
        if (byPriority != 0) return byPriority;
        var byAdded = a.AddedAt.CompareTo(b.AddedAt);
        return byAdded != 0 ? byAdded : a.AddedOrder.CompareTo(b.AddedOrder);
    };

    // The pass's buffers and what it last reported; used only under _queueGate.
    private readonly List<TorrentManager> _queueOrder = [];
    private QueueEntry<TorrentManager>[] _queueEntries = [];
    private InfoHash[] _reportedActive = [];
    private InfoHash[] _reportedQueued = [];

    private readonly Lock _queueRequestGate = new();
    // The pass requested and not started yet; null when none is.
    private TaskCompletionSource? _queueRequested;
    private bool _queueRunning;

    // One runner at a time: takes the pending request, runs a pass for it, and ends when none is left.
    private async Task RunQueuePassesAsync()
    {
        while (true)
        {
            TaskCompletionSource? pass;
            lock (_queueRequestGate)
            {
                pass = _queueRequested;
                _queueRequested = null;
                if (pass is null)
                {
                    _queueRunning = false;
                    return;
                }
            }
            try
            {
                await ApplyQueueAsync(_stopping.Token).ConfigureAwait(false);
                pass.TrySetResult();
            }
            catch (OperationCanceledException e)
            {
                pass.TrySetCanceled(e.CancellationToken);
            }
            catch (Exception e)
            {
                pass.TrySetException(e);
            }
        }
    }

    private async Task ApplyQueueAsync(CancellationToken cancellationToken)
    {
        await _queueGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The buffers are the engine's, reused under the gate: a pass runs after every add, pause and completion, so
            // one that allocates per torrent makes start-up with n torrents cost n² garbage.
            var ordered = _queueOrder;
            ordered.Clear();
            foreach (var t in _torrents.Values)
            {
                if (t.State is not (TorrentState.Error or TorrentState.Removed)) ordered.Add(t);
            }
            ordered.Sort(QueueOrder);
            if (_queueEntries.Length < ordered.Count) _queueEntries = new QueueEntry<TorrentManager>[Math.Max(ordered.Count, _queueEntries.Length * 2)];
            for (var i = 0; i < ordered.Count; i++) _queueEntries[i] = ordered[i].ToQueueEntry(i);
            var decisions = QueuePolicy.Decide(new ArraySegment<QueueEntry<TorrentManager>>(_queueEntries, 0, ordered.Count), QueueLimits);
            Array.Clear(_queueEntries, 0, ordered.Count);
            // Whether the active and queued lists differ from the ones last reported, found without building them.
            var (activeCount, queuedCount, same) = (0, 0, true);
            for (var i = 0; i < ordered.Count; i++)
            {
                var t = ordered[i];
                try
                {
                    switch (decisions[i].State)
                    {
                        // Only changes go to a torrent's loop: a round trip per torrent on every add made adding
                        // n torrents cost n² commands (1,000 torrents: 8 s and 1 GB of garbage at start-up).
                        case QueueState.Active:
                            same &= activeCount < _reportedActive.Length && _reportedActive[activeCount] == t.InfoHash;
                            activeCount++;
                            if (t.QueueAllowed != true) await t.SetAllowedToRunAsync(true, cancellationToken).ConfigureAwait(false);
                            t.QueueAllowed = true;
                            break;
                        case QueueState.Queued:
                            same &= queuedCount < _reportedQueued.Length && _reportedQueued[queuedCount] == t.InfoHash;
                            queuedCount++;
                            if (t.QueueAllowed != false) await t.SetAllowedToRunAsync(false, cancellationToken).ConfigureAwait(false);
                            t.QueueAllowed = false;
                            break;
                        case QueueState.Finished:
                            t.QueueAllowed = null;
                            await t.FinishSeedingAsync(cancellationToken).ConfigureAwait(false);
                            break;
                    }
                }
                catch (ObjectDisposedException)
                {
                }
            }
            same &= activeCount == _reportedActive.Length && queuedCount == _reportedQueued.Length;
            if (ordered.Count > 0 && !same)
            {
                var active = new InfoHash[activeCount];
                var queued = new InfoHash[queuedCount];
                (activeCount, queuedCount) = (0, 0);
                for (var i = 0; i < ordered.Count; i++)
                {
                    if (decisions[i].State == QueueState.Active) active[activeCount++] = ordered[i].InfoHash;
                    else if (decisions[i].State == QueueState.Queued) queued[queuedCount++] = ordered[i].InfoHash;
                }
                (_reportedActive, _reportedQueued) = (active, queued);
                Emit(new QueueChangedEvent(ordered[0].InfoHash, TimeProvider.GetUtcNow(), active, queued));
            }
            ordered.Clear();
        }
        finally
        {
            _queueGate.Release();
        }
    }

    /// <summary>Re-runs the queue off the caller's thread, without waiting (a torrent's loop must not wait on it).</summary>
    internal void RequestQueueUpdate() => UpdateQueueAsync(CancellationToken.None).ContinueWith(static t => _ = t.Exception, CancellationToken.None,
        TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);

    internal void OnTorrentStateChanged(TorrentManager torrent)
    {
        // A download that completes frees a queue slot.
        if (torrent.State is TorrentState.Seeding or TorrentState.Finished && _torrents.Count > Options.MaxActiveDownloads)
            RequestQueueUpdate();
    }

    // ---- connections ----

    internal bool TryReserveConnection()
    {
        if (Interlocked.Increment(ref _connections) <= Options.MaxConnections) return true;
        Interlocked.Decrement(ref _connections);
        return false;
    }

    internal void ReleaseConnection() => Interlocked.Decrement(ref _connections);

    private int _halfOpen;
    private int _pendingIncoming;

    /// <summary>Takes a slot for an outgoing dial (<see cref="EngineOptions.MaxHalfOpenConnections"/>); false when none is free.</summary>
    internal bool TryReserveHalfOpen()
    {
        if (Interlocked.Increment(ref _halfOpen) <= Options.MaxHalfOpenConnections) return true;
        Interlocked.Decrement(ref _halfOpen);
        return false;
    }

    /// <summary>A dial finished (connected or not): its slot goes to a torrent that had to wait for one.</summary>
    internal void ReleaseHalfOpen()
    {
        Interlocked.Decrement(ref _halfOpen);
        // A torrent that missed a slot in the moment before this release is left to its next dial tick (5 s).
        if (Interlocked.Exchange(ref _dialsDeferred, 0) == 1)
            foreach (var t in _torrents.Values) t.NudgeDials();
    }

    private int _dialsDeferred;

    /// <summary>A torrent found no half-open slot: when one frees, torrents are asked to dial again (not only on their next tick).</summary>
    internal void DialsDeferred() => Volatile.Write(ref _dialsDeferred, 1);

    /// <summary>Outgoing dials in progress, against <see cref="EngineOptions.MaxHalfOpenConnections"/>.</summary>
    public int HalfOpenConnections => Volatile.Read(ref _halfOpen);

    /// <summary>Incoming connections waiting for their handshake, against <see cref="EngineOptions.MaxPendingIncomingConnections"/>.</summary>
    public int PendingIncomingConnections => Volatile.Read(ref _pendingIncoming);

    private async Task AcceptLoopAsync(IPeerListener listener, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var connection in listener.Connections.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                _ = RouteIncomingAsync(connection, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Reads an incoming peer's handshake and hands the connection to the torrent it names.</summary>
    private async Task RouteIncomingAsync(IPeerConnection connection, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _pendingIncoming) > Options.MaxPendingIncomingConnections)
        {
            // Closed before a reader or timer exists: a flood of silent connections costs nothing past the cap.
            Interlocked.Decrement(ref _pendingIncoming);
            await connection.DisposeAsync().ConfigureAwait(false);
            return;
        }
        PeerWireReader? reader = null;
        var counted = true;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            // Plaintext or MSE on the same port: the first bytes tell (Encryption/MseHandshake.AcceptAsync).
            var negotiated = await Encryption.MseHandshake.AcceptAsync(connection, AcceptsEncrypted(), req2 =>
                Encryption.PeerConnections.FindByReq2(_torrents.Values.Select(t => (t.InfoHash, t.Encryption)), req2), timeout.Token).ConfigureAwait(false);
            if (negotiated is not null)
            {
                connection = negotiated;
                reader = new PeerWireReader(connection, FrameLimits.Default) { Clock = TimeProvider };
            }
            var result = reader is null ? default : await reader.ReadHandshakeAsync(timeout.Token).ConfigureAwait(false);
            Interlocked.Decrement(ref _pendingIncoming);
            counted = false;
            if (result.Succeeded && reader is not null && _torrents.TryGetValue(new InfoHash(result.Handshake.InfoHash), out var torrent) &&
                Encryption.PeerConnections.Admits(connection, torrent.InfoHash, torrent.Encryption))
            {
                torrent.AcceptIncoming(connection, reader, result.Handshake);
                return;
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // IOException includes MseHandshakeException: a hostile or broken encrypted handshake.
        }
        finally
        {
            if (counted) Interlocked.Decrement(ref _pendingIncoming);
        }
        if (reader is not null) await reader.DisposeAsync().ConfigureAwait(false);
        await connection.DisposeAsync().ConfigureAwait(false);
    }

    // Encrypted handshakes are answered unless no torrent (nor the engine) would take one.
    private bool AcceptsEncrypted() =>
        Options.Encryption != Encryption.EncryptionPolicy.Disable || _torrents.Values.Any(t => t.Encryption != Encryption.EncryptionPolicy.Disable);
    private Dht.DhtPeerSource? _dhtPeers;

    /// <summary>The DHT node, once started (null when <see cref="EngineOptions.Dht"/> is null).</summary>
    public Dht.DhtEngine? Dht { get; private set; }

    private void StartDht()
    {
        if (Options.Dht is not { } dht) return;
        // UDP on the peer port by default; every node and peer address passes the destination policy like x.pe peers.
        // The routing table is kept beside the resume data unless a file is named.
        var stateFile = dht.StateFile ?? (Options.ResumeDirectory is { } dir ? Path.Combine(dir, "dht-state.bencode") : null);
        Dht = new Dht.DhtEngine(dht with { ListenEndPoint = dht.ListenEndPoint ?? ListenEndPoint, StateFile = stateFile }, a => Options.Destinations.Check(a).Allowed);
        Dht.Start();
        _dhtPeers = new Dht.DhtPeerSource(Dht, () => _torrents.Values, () => Options.AnnouncePort ?? ListenEndPoint?.Port ?? 0, dht);
    }

    /// <summary>Local service discovery (BEP 14), once started (null when <see cref="EngineOptions.LocalDiscovery"/> is null or it could not start).</summary>
    public LocalDiscovery.LocalDiscoveryService? LocalDiscovery { get; private set; }

    /// <summary>Why local discovery is not running although asked for (its socket could not be opened), else null.</summary>
    public string? LocalDiscoveryProblem { get; private set; }

    private static bool WantsLocalDiscovery(TorrentManager torrent) =>
        PeerSourcePolicy.Allows(torrent.Metainfo, PeerSources.LocalDiscovery)
        && torrent.State is TorrentState.Downloading or TorrentState.Seeding or TorrentState.FetchingMetadata;

    private void StartLocalDiscovery()
    {
        if (Options.LocalDiscovery is not { } lsd) return;
        // The listener's interface unless another is named; peers found are dialled only where the destination policy allows.
        var iface = lsd.InterfaceAddress ?? (ListenEndPoint is { } ep && !ep.Address.Equals(IPAddress.Any) && !ep.Address.Equals(IPAddress.IPv6Any) ? ep.Address : null);
        LocalDiscovery.ILsdTransport transport;
        try
        {
            transport = Options.LocalDiscoveryTransport?.Invoke(lsd, iface) ?? TorrentEdge.Engine.LocalDiscovery.UdpLsdTransport.Open(lsd.Group, iface, lsd.TimeToLive);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            LocalDiscoveryProblem = $"local discovery could not join {lsd.Group} on {iface?.ToString() ?? "the default interface"}: {e.Message}";
            return;
        }
        LocalDiscovery = new LocalDiscovery.LocalDiscoveryService(transport, lsd,
            () => Options.AnnouncePort ?? ListenEndPoint?.Port ?? 0,
            () => _torrents.Values.Where(WantsLocalDiscovery).Select(t => t.InfoHash),
            (hash, peer) =>
            {
                // A magnet's metadata may have said private since the announce: asked again here, at the hand-over.
                if (_torrents.TryGetValue(hash, out var torrent) && WantsLocalDiscovery(torrent)) torrent.AddPeers([peer], PeerSource.LocalDiscovery);
            },
            a => Options.Destinations.Check(a).Allowed);
        LocalDiscovery.Start();
    }

    internal void Emit(TorrentEvent e) => _events.Writer.TryWrite(e);

    // ---- what a torrent sees of the engine (ITorrentHost) ----

    TimeProvider ITorrentHost.TimeProvider => TimeProvider;
    ResumeDataStore? ITorrentHost.ResumeStore => ResumeStore;
    IPieceStoreFactory ITorrentHost.PieceStores => PieceStores;
    IPeerConnectionFactory ITorrentHost.ConnectionFactory => ConnectionFactory;
    Trackers.ITrackerClientFactory ITorrentHost.TrackerClients => Trackers.Factory;
    QueueLimits ITorrentHost.QueueLimits => QueueLimits;
    GlobalRateLimits ITorrentHost.RateLimits => RateLimits;
    long ITorrentHost.NextAddedOrder() => NextAddedOrder();
    void ITorrentHost.Emit(TorrentEvent e) => Emit(e);
    bool ITorrentHost.TryReserveConnection() => TryReserveConnection();
    void ITorrentHost.ReleaseConnection() => ReleaseConnection();
    bool ITorrentHost.TryReserveHalfOpen() => TryReserveHalfOpen();
    void ITorrentHost.ReleaseHalfOpen() => ReleaseHalfOpen();
    void ITorrentHost.DialsDeferred() => DialsDeferred();
    Task ITorrentHost.UpdateQueueAsync(CancellationToken cancellationToken) => UpdateQueueAsync(cancellationToken);
    void ITorrentHost.RequestQueueUpdate() => RequestQueueUpdate();
    void ITorrentHost.OnTorrentStateChanged(TorrentManager torrent) => OnTorrentStateChanged(torrent);

    /// <summary>Stops every torrent (saving resume data) and the listener.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_dhtPeers is not null) await _dhtPeers.DisposeAsync().ConfigureAwait(false);
        if (Dht is not null) await Dht.DisposeAsync().ConfigureAwait(false);
        if (LocalDiscovery is not null) await LocalDiscovery.DisposeAsync().ConfigureAwait(false);
        if (_listener is not null) await _listener.DisposeAsync().ConfigureAwait(false);
        if (_acceptLoop is not null) await _acceptLoop.ConfigureAwait(false);
        await Task.WhenAll(_torrents.Values.Select(t => t.DisposeAsync().AsTask())).ConfigureAwait(false);
        await Trackers.DisposeAsync().ConfigureAwait(false);
        _events.Writer.TryComplete();
        Metrics.Dispose();
        _stopping.Dispose();
    }
}
