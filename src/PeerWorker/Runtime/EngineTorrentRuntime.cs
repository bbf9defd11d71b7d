using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.Engine;
using TorrentEdge.Engine.Bencoding;
using TorrentEdge.Engine.Magnet;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Queueing;
using TorrentEdge.Engine.Storage.Resume;
using TorrentEdge.Engine.Torrents;
using TorrentEdge.PeerWorker.Extensions;
using EngineFilePriority = TorrentEdge.Engine.Storage.FilePriority;
using EngineState = TorrentEdge.Engine.Torrents.TorrentState;
using TorrentState = TorrentEdge.Contracts.Torrents.TorrentState;

namespace TorrentEdge.PeerWorker.Runtime;

/// <summary>
/// <see cref="ITorrentRuntime"/> over the TorrentEdge engine: one <see cref="ClientEngine"/> per replica, listening on
/// the replica's peer port, with the download root as save folder and the (shared) resume folder for resume data.
/// </summary>
public sealed partial class EngineTorrentRuntime : ITorrentRuntime, IAsyncDisposable
{
    private readonly IMeterFactory _meterFactory;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    // Replaced only in InitializeAsync, before any torrent is added, when the chosen port was taken in between.
    private ClientEngine _engine;
    private int _port;
    private Socket? _portHold;
    private InvalidOperationException? _portError;
    private readonly PeerWorkerOptions _options;
    private readonly ResumeDataStore _resume;
    private readonly ILogger<EngineTorrentRuntime> _logger;
    private readonly ConcurrentDictionary<string, IReadOnlyList<FilePriority>> _filePriorities = new(StringComparer.Ordinal);
    private readonly Dictionary<InfoHash, (int Position, TorrentState State)> _queue = [];
    private string? _problem = "The engine has not started yet.";

    private readonly Engine.Storage.IStorageFence? _fence;

    public EngineTorrentRuntime(IOptions<PeerWorkerOptions> options, IMeterFactory meterFactory, TimeProvider time, ILogger<EngineTorrentRuntime> logger,
        Engine.Storage.IStorageFence? fence = null)
    {
        _options = options.Value;
        _fence = fence;
        _logger = logger;
        var downloadRoot = Path.GetFullPath(_options.DownloadRoot);
        var resumeRoot = _options.GetResumeRoot();
        Directory.CreateDirectory(downloadRoot);
        Directory.CreateDirectory(resumeRoot);
        _resume = new ResumeDataStore(resumeRoot);
        _meterFactory = meterFactory;
        // Each replica takes its own port of the configured range; holding it until the engine starts keeps another
        // replica on this machine from choosing the same one meanwhile.
        try
        {
            (_port, _portHold) = PeerPortRange.Reserve(IPAddress.Parse(_options.ListenAddress), _options.PeerPort, _options.PeerPortMax);
        }
        catch (InvalidOperationException ex)
        {
            // Reported by InitializeAsync, so the replica still serves /health saying why.
            _port = _options.PeerPort;
            _portError = ex;
        }
        _engine = CreateEngine(_port, downloadRoot, resumeRoot, time);
    }

    /// <summary>The engine's settings, as built from the replica's configuration.</summary>
    internal EngineOptions EngineOptions => _engine.Options;

    private ClientEngine CreateEngine(int port, string downloadRoot, string resumeRoot, TimeProvider time) => new(new EngineOptions
    {
        ListenEndPoint = new IPEndPoint(IPAddress.Parse(_options.ListenAddress), port),
        DownloadDirectory = downloadRoot,
        ResumeDirectory = resumeRoot,
        MaxActiveDownloads = _options.MaxActiveTorrents,
        MaxConnections = _options.MaxConnections,
        MaxConnectionsPerTorrent = _options.MaxConnectionsPerTorrent,
        UploadRateLimit = _options.UploadRateLimit,
        DownloadRateLimit = _options.DownloadRateLimit,
        DirectWrites = _options.DirectWrites,
        BanByAddress = _options.BanByAddress,
        MaxHalfOpenConnections = _options.MaxHalfOpenConnections,
        MaxPendingIncomingConnections = _options.MaxPendingIncomingConnections,
        MaxConnectionsPerAddress = _options.MaxConnectionsPerAddress,
        MaxPeerCandidates = _options.MaxPeerCandidates,
        MaxLoopQueueLength = _options.MaxLoopQueueLength,
        MaxActivePieceBytes = _options.MaxActivePieceBytes,
        StorageFence = _fence,
        Destinations = _options.Destinations.ToPolicy(),
        Encryption = _options.Encryption,
        // Replicas share the resume folder: each keeps its own routing table (and node id) under its name.
        Dht = _options.Dht.ToEngineOptions(Path.Combine(resumeRoot, "dht", _options.ReplicaId + ".bencode")),
        LocalDiscovery = _options.LocalDiscovery.ToEngineOptions(),
        TimeProvider = time,
    }, _meterFactory);

    /// <summary>Where peers reach this replica, once initialized.</summary>
    public IPEndPoint? ListenEndPoint => _engine.ListenEndPoint;

    public string? HealthProblem => Volatile.Read(ref _problem);

    public async ValueTask InitializeAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (_portError is not null)
            {
                throw _portError;
            }
            while (true)
            {
                _portHold?.Dispose();
                _portHold = null;
                try
                {
                    await _engine.StartAsync(cancellationToken).ConfigureAwait(false);
                    break;
                }
                catch (SocketException ex) when (ex.SocketErrorCode == SocketError.AddressAlreadyInUse && _port != 0)
                {
                    // Taken between the reservation and now (a process outside the range's replicas): the next free one.
                    var options = _engine.Options;
                    await _engine.DisposeAsync().ConfigureAwait(false);
                    (_port, _portHold) = PeerPortRange.Reserve(IPAddress.Parse(_options.ListenAddress), _port + 1, _options.PeerPortMax, ex);
                    _engine = CreateEngine(_port, options.DownloadDirectory, options.ResumeDirectory!, options.TimeProvider);
                }
            }
            Volatile.Write(ref _problem, null);
            _started.TrySetResult();
            LogListening(_logger, _engine.ListenEndPoint?.ToString() ?? "(not listening)");
        }
        catch (Exception ex)
        {
            Volatile.Write(ref _problem, "The engine could not start: " + ex.Message);
            throw;
        }
    }

    public async ValueTask StartAsync(TorrentStartRequest request, CancellationToken cancellationToken)
    {
        var add = new AddTorrentOptions
        {
            SavePath = request.Folder,
            Paused = request.Paused,
            QueuePriority = Map(request.Priority),
            Encryption = Map(request.Encryption),
        };
        _filePriorities[request.InfoHash] = request.FilePriorities;
        if (request.Metainfo is { } bytes)
        {
            var metainfo = TorrentMetainfo.Parse(bytes);
            if (metainfo.InfoHash.ToHex() != request.InfoHash)
            {
                throw new InvalidOperationException($"The metainfo is of {metainfo.InfoHash.ToHex()}, not of {request.InfoHash}.");
            }
            add = add with { FilePriorities = request.FilePriorities.Count == 0 ? null : Expand(metainfo, request.FilePriorities) };
            await _engine.AddAsync(metainfo, add, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var magnet = MagnetLink.Parse(request.MagnetUri ?? throw new ArgumentException("Neither metainfo nor magnet.", nameof(request)));
            if (magnet.InfoHash.ToHex() != request.InfoHash)
            {
                throw new InvalidOperationException($"The magnet link is of {magnet.InfoHash.ToHex()}, not of {request.InfoHash}.");
            }
            await _engine.AddMagnetAsync(magnet, add, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask SetEncryptionAsync(string infoHash, PeerEncryption? encryption, CancellationToken cancellationToken)
        => await _engine.SetEncryptionAsync(InfoHash.Parse(infoHash), Map(encryption) ?? _options.Encryption, cancellationToken).ConfigureAwait(false);

    /// <summary>A torrent's own policy in the engine's terms; null stays null (the engine's, which is <c>PeerWorker:Encryption</c>).</summary>
    internal static Engine.Encryption.EncryptionPolicy? Map(PeerEncryption? encryption) => encryption switch
    {
        PeerEncryption.Prefer => Engine.Encryption.EncryptionPolicy.Prefer,
        PeerEncryption.Require => Engine.Encryption.EncryptionPolicy.Require,
        PeerEncryption.Disable => Engine.Encryption.EncryptionPolicy.Disable,
        _ => null,
    };

    public async ValueTask PauseAsync(string infoHash, CancellationToken cancellationToken)
        => await _engine.PauseAsync(InfoHash.Parse(infoHash), cancellationToken).ConfigureAwait(false);

    public async ValueTask ResumeAsync(string infoHash, CancellationToken cancellationToken)
        => await _engine.ResumeAsync(InfoHash.Parse(infoHash), cancellationToken).ConfigureAwait(false);

    public async ValueTask SetPriorityAsync(string infoHash, TorrentPriority priority, CancellationToken cancellationToken)
        => await _engine.SetQueuePriorityAsync(InfoHash.Parse(infoHash), Map(priority), cancellationToken).ConfigureAwait(false);

    public async ValueTask SetFilePrioritiesAsync(string infoHash, IReadOnlyList<FilePriority> priorities, CancellationToken cancellationToken)
    {
        var hash = InfoHash.Parse(infoHash);
        _filePriorities[infoHash] = priorities;
        // Without metadata (a magnet) they are applied when it arrives.
        if (_engine.Find(hash)?.Metainfo is { } metainfo)
        {
            await _engine.SetFilePrioritiesAsync(hash, Expand(metainfo, priorities), cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask RecheckAsync(string infoHash, CancellationToken cancellationToken)
        => await _engine.RecheckAsync(InfoHash.Parse(infoHash), cancellationToken).ConfigureAwait(false);

    public async ValueTask StopAsync(string infoHash, CancellationToken cancellationToken)
    {
        var hash = InfoHash.Parse(infoHash);
        // Stops the torrent, saves its resume data and keeps its files; it leaves the engine.
        await _engine.StopAsync(hash, cancellationToken).ConfigureAwait(false);
        _filePriorities.TryRemove(infoHash, out _);
    }

    public async ValueTask<bool> RemoveAsync(string infoHash, string folder, bool deleteData, CancellationToken cancellationToken)
    {
        var hash = InfoHash.Parse(infoHash);
        var running = _engine.Find(hash) is not null;
        if (running)
        {
            await _engine.RemoveAsync(hash, deleteData, cancellationToken).ConfigureAwait(false);
        }
        _filePriorities.TryRemove(infoHash, out _);
        var removed = running;
        if (_fence is not null && !_fence.MayWrite(hash))
        {
            // Another replica holds the torrent now (docs/peerworker.md, Fencing): its files and resume data are its own.
            return removed;
        }
        if (File.Exists(_resume.GetPath(infoHash)))
        {
            _resume.Delete(infoHash);
            removed = true;
        }
        if (deleteData && Directory.Exists(folder))
        {
            // The folder is the torrent's own (named by its info-hash), so all of it goes.
            Directory.Delete(folder, recursive: true);
            removed = true;
        }
        return removed;
    }

    public RuntimeSnapshot? GetSnapshot(string infoHash)
        => InfoHash.TryParse(infoHash, out var hash) && _engine.Find(hash) is { } torrent ? ToSnapshot(torrent) : null;

    public IReadOnlyList<RuntimeSnapshot> GetSnapshots() => [.. _engine.Torrents.Select(ToSnapshot)];

    public async IAsyncEnumerable<RuntimeEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        // The engine may still be replaced until it listens.
        await _started.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        await foreach (var e in _engine.ReadEventsAsync(cancellationToken).ConfigureAwait(false))
        {
            foreach (var mapped in Map(e))
            {
                yield return mapped;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        Volatile.Write(ref _problem, "The engine stopped.");
        _portHold?.Dispose();
        await _engine.DisposeAsync().ConfigureAwait(false);
    }

    private IEnumerable<RuntimeEvent> Map(Engine.Torrents.TorrentEvent e)
    {
        var hex = e.InfoHash.ToHex();
        switch (e)
        {
            case TorrentStateChangedEvent s when s.To != EngineState.Removed && Map(s.From) != Map(s.To):
                yield return new RuntimeStateChanged(hex, Map(s.To));
                break;
            case ProgressEvent p when _engine.Find(e.InfoHash) is { } torrent:
                yield return new RuntimeProgress(hex, ToSnapshot(torrent, p.Status));
                break;
            case PiecesVerifiedEvent v:
                var status = _engine.GetStatus(e.InfoHash);
                yield return new RuntimePiecesVerified(hex, v.Pieces, status?.PiecesHave ?? 0, status?.PieceCount ?? 0);
                break;
            case MetadataReceivedEvent m when _engine.Find(e.InfoHash)?.Metainfo is { } metainfo:
                if (_filePriorities.TryGetValue(hex, out var pending) && pending.Count > 0)
                {
                    _ = ApplyPendingPrioritiesAsync(e.InfoHash, Expand(metainfo, pending));
                }
                yield return new RuntimeMetadataReceived(hex, m.Name, m.TotalLength, metainfo.Files.Count(f => !f.IsPadding), ToTorrentFile(metainfo));
                break;
            case TorrentCompletedEvent c:
                yield return new RuntimeCompleted(hex, c.TotalBytes);
                break;
            case TorrentSeedingEvent:
                yield return new RuntimeSeeding(hex);
                break;
            case TorrentErrorEvent f:
                yield return new RuntimeFailed(hex, f.Message);
                break;
            case QueueChangedEvent q:
                foreach (var changed in QueueChanges(q))
                {
                    yield return changed;
                }
                break;
        }
    }

    /// <summary>Only the torrents whose place or state in the queue moved, so one change does not repeat the whole queue.</summary>
    private List<RuntimeEvent> QueueChanges(QueueChangedEvent q)
    {
        var changes = new List<RuntimeEvent>();
        lock (_queue)
        {
            var seen = new HashSet<InfoHash>();
            var position = 0;
            foreach (var (hash, active) in q.Active.Select(h => (h, true)).Concat(q.Queued.Select(h => (h, false))))
            {
                seen.Add(hash);
                var state = active ? Map(_engine.GetStatus(hash)?.State ?? EngineState.Queued) : TorrentState.Queued;
                var entry = (position++, state);
                if (!_queue.TryGetValue(hash, out var last) || last != entry)
                {
                    _queue[hash] = entry;
                    changes.Add(new RuntimeQueueChanged(hash.ToHex(), entry.Item1, state));
                }
            }
            foreach (var gone in _queue.Keys.Where(k => !seen.Contains(k)).ToList())
            {
                _queue.Remove(gone);
            }
        }
        return changes;
    }

    private RuntimeSnapshot ToSnapshot(TorrentManager torrent) => ToSnapshot(torrent, torrent.Status);

    private RuntimeSnapshot ToSnapshot(TorrentManager torrent, TorrentStatus s)
    {
        var hex = s.InfoHash.ToHex();
        var files = new List<FileProgress>();
        if (torrent.Metainfo is { } metainfo)
        {
            var given = _filePriorities.GetValueOrDefault(hex) ?? [];
            var byRealFile = given.Count != metainfo.Files.Count;
            for (int i = 0, real = 0; i < metainfo.Files.Count; i++)
            {
                var file = metainfo.Files[i];
                if (file.IsPadding)
                {
                    continue;
                }
                var index = byRealFile ? real : i;
                real++;
                var done = i < s.FileBytesDone.Count ? s.FileBytesDone[i] : 0;
                files.Add(new FileProgress(file.Path, file.Length, done, index < given.Count ? given[index] : FilePriority.Normal));
            }
        }
        // The engine's rates are measured on its ticks: right after a pause they still say what the last second moved.
        var moving = IsTransferring(s.State);
        return new RuntimeSnapshot(hex, s.Name, Map(s.State), s.HasMetadata, s.Progress, s.BytesDone, s.BytesWanted, s.TotalLength,
            s.Downloaded, s.Uploaded, moving ? s.DownloadRate : 0, moving ? s.UploadRate : 0, s.Peers, s.Seeds, s.PieceCount, s.PiecesHave,
            files, s.Error, Math.Max(s.PeersKnown, s.Peers))
        {
            // The engine refreshes its peer list on its tick: right after a pause it still names the peers it just closed.
            PeerList = moving ? [.. torrent.PeerInfos.Select(ToPeerStatus)] : [],
            PieceBitfield = torrent.PieceBitfield,
            Trackers = [.. torrent.TrackerStatus.Select(ToContract)],
        };
    }

    private static PeerStatus ToPeerStatus(PeerInfo p) => new(
        p.EndPoint?.ToString() ?? "?", p.Client, p.Source.ToString().ToLowerInvariant(), p.Incoming, p.Encrypted, p.Progress,
        p.DownloadRate, p.UploadRate, p.Downloaded, p.Uploaded, p.PeerChoking, p.AmChoking);

    // The contract's counts are not nullable: a tracker that never gave them reports 0. Health travels as the words its
    // readers already know: "working" and "error" (the web UI colours them, the qBittorrent API maps them to 2 and 4).
    internal static Contracts.Torrents.TrackerStatus ToContract(Engine.Trackers.TrackerStatus t)
        => new(t.Url, HealthName(t.Health), t.Seeders ?? 0, t.Leechers ?? 0, t.LastError);

    internal static string HealthName(Engine.Trackers.TrackerHealth health) => health switch
    {
        Engine.Trackers.TrackerHealth.Working => "working",
        Engine.Trackers.TrackerHealth.Failing => "error",
        Engine.Trackers.TrackerHealth.Unsupported => "unsupported",
        _ => "not contacted",
    };

    /// <summary>Whether a torrent in this state moves data at all (a paused, queued, checking or failed one does not).</summary>
    internal static bool IsTransferring(EngineState state) =>
        state is EngineState.Downloading or EngineState.Seeding or EngineState.Finished or EngineState.FetchingMetadata;

    /// <summary>
    /// One engine priority per file of the torrent, padding files included. The spec has one per file in metainfo order;
    /// a list that counts only real files (what users see) gets the padding files skipped in between. Empty: all normal.
    /// </summary>
    internal static IReadOnlyList<EngineFilePriority> Expand(TorrentMetainfo metainfo, IReadOnlyList<FilePriority> priorities)
    {
        var files = metainfo.Files;
        if (priorities.Count == files.Count)
        {
            return [.. priorities.Select(Map)];
        }
        var result = new EngineFilePriority[files.Count];
        for (int i = 0, real = 0; i < files.Count; i++)
        {
            result[i] = files[i].IsPadding ? EngineFilePriority.Skip
                : real < priorities.Count ? Map(priorities[real++]) : EngineFilePriority.Normal;
        }
        return result;
    }

    private async Task ApplyPendingPrioritiesAsync(InfoHash hash, IReadOnlyList<EngineFilePriority> priorities)
    {
        try
        {
            await _engine.SetFilePrioritiesAsync(hash, priorities).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is KeyNotFoundException or ObjectDisposedException or InvalidOperationException or ArgumentException)
        {
            LogPrioritiesFailed(_logger, ex, hash.ToHex());
        }
    }

    /// <summary>A .torrent around the info dictionary exactly as received (its bytes define the info-hash), with the trackers.</summary>
    internal static byte[] ToTorrentFile(TorrentMetainfo metainfo)
    {
        var output = new ArrayBufferWriter<byte>(metainfo.InfoBytes.Length + 256);
        output.Write("d"u8);
        var tiers = metainfo.AnnounceTiers.Where(t => t.Count > 0).ToList();
        if (tiers.Count > 0)
        {
            BencodeWriter.WriteString(output, "announce");
            BencodeWriter.WriteString(output, tiers[0][0]);
            BencodeWriter.WriteString(output, "announce-list");
            output.Write("l"u8);
            foreach (var tier in tiers)
            {
                output.Write("l"u8);
                foreach (var url in tier)
                {
                    BencodeWriter.WriteString(output, url);
                }
                output.Write("e"u8);
            }
            output.Write("e"u8);
        }
        BencodeWriter.WriteString(output, "info");
        output.Write(metainfo.InfoBytes.Span);
        output.Write("e"u8);
        return output.WrittenSpan.ToArray();
    }

    private static TorrentState Map(EngineState state) => state switch
    {
        EngineState.Queued => TorrentState.Queued,
        EngineState.FetchingMetadata => TorrentState.FetchingMetadata,
        EngineState.Checking => TorrentState.Checking,
        EngineState.Downloading => TorrentState.Downloading,
        // Finished (every wanted piece, some files skipped) serves what it has: seeding, as far as users can tell.
        EngineState.Seeding or EngineState.Finished => TorrentState.Seeding,
        EngineState.Paused => TorrentState.Paused,
        EngineState.Error => TorrentState.Error,
        _ => TorrentState.Removed,
    };

    private static QueuePriority Map(TorrentPriority priority) => priority switch
    {
        TorrentPriority.Low => QueuePriority.Low,
        TorrentPriority.High => QueuePriority.High,
        _ => QueuePriority.Normal,
    };

    private static EngineFilePriority Map(FilePriority priority) => priority switch
    {
        FilePriority.Skip => EngineFilePriority.Skip,
        FilePriority.Low => EngineFilePriority.Low,
        FilePriority.High => EngineFilePriority.High,
        _ => EngineFilePriority.Normal,
    };

    [LoggerMessage(LogLevel.Warning, "Applying the file priorities of {InfoHash} after its metadata arrived failed")]
    private static partial void LogPrioritiesFailed(ILogger logger, Exception exception, string infoHash);

    [LoggerMessage(LogLevel.Information, "Engine listening for peers on {EndPoint}")]
    private static partial void LogListening(ILogger logger, string endPoint);
}
