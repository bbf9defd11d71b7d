using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.PeerWorker.Runtime;

namespace TorrentEdge.PeerWorker.Tests.Support;

/// <summary>Records what the reconciler asks of the runtime; unit tests only.</summary>
internal sealed class FakeTorrentRuntime : ITorrentRuntime
{
    private readonly Channel<RuntimeEvent> _events = Channel.CreateUnbounded<RuntimeEvent>();

    public ConcurrentQueue<string> Calls { get; } = new();

    public ConcurrentDictionary<string, TorrentStartRequest> Running { get; } = new();

    /// <summary>Info-hashes whose start throws, to exercise retries.</summary>
    public ConcurrentDictionary<string, int> FailStarts { get; } = new();

    public string? HealthProblem => null;

    public ValueTask InitializeAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask StartAsync(TorrentStartRequest request, CancellationToken cancellationToken)
    {
        if (FailStarts.TryGetValue(request.InfoHash, out var left) && left > 0)
        {
            FailStarts[request.InfoHash] = left - 1;
            Calls.Enqueue($"start-failed {request.InfoHash}");
            throw new IOException("disk on fire");
        }
        Running[request.InfoHash] = request;
        Calls.Enqueue($"start {request.InfoHash} {(request.Metainfo is not null ? "metainfo" : "magnet")}{(request.Paused ? " paused" : "")}");
        return ValueTask.CompletedTask;
    }

    public ValueTask PauseAsync(string infoHash, CancellationToken cancellationToken) => Record($"pause {infoHash}");

    public ValueTask ResumeAsync(string infoHash, CancellationToken cancellationToken) => Record($"resume {infoHash}");

    public ValueTask SetPriorityAsync(string infoHash, TorrentPriority priority, CancellationToken cancellationToken) => Record($"priority {infoHash} {priority}");

    public ValueTask SetFilePrioritiesAsync(string infoHash, IReadOnlyList<FilePriority> priorities, CancellationToken cancellationToken)
        => Record($"files {infoHash} {string.Join(',', priorities)}");

    public ValueTask RecheckAsync(string infoHash, CancellationToken cancellationToken) => Record($"recheck {infoHash}");

    public ValueTask SetEncryptionAsync(string infoHash, PeerEncryption? encryption, CancellationToken cancellationToken)
        => Record($"encryption {infoHash} {encryption?.ToString() ?? "default"}");

    public ValueTask StopAsync(string infoHash, CancellationToken cancellationToken)
    {
        Running.TryRemove(infoHash, out _);
        return Record($"stop {infoHash}");
    }

    public ValueTask<bool> RemoveAsync(string infoHash, string folder, bool deleteData, CancellationToken cancellationToken)
    {
        var was = Running.TryRemove(infoHash, out _);
        Calls.Enqueue($"remove {infoHash} data={deleteData}");
        return ValueTask.FromResult(was);
    }

    /// <summary>Snapshots a test sets for a torrent; otherwise a running torrent gets <see cref="Snapshot(string)"/>.</summary>
    public ConcurrentDictionary<string, RuntimeSnapshot> Snapshots { get; } = new();

    public RuntimeSnapshot? GetSnapshot(string infoHash) =>
        Snapshots.TryGetValue(infoHash, out var set) ? set : Running.ContainsKey(infoHash) ? Snapshot(infoHash) : null;

    public IReadOnlyList<RuntimeSnapshot> GetSnapshots() => [.. Running.Keys.Select(Snapshot)];

    public void Emit(RuntimeEvent e) => _events.Writer.TryWrite(e);

    public async IAsyncEnumerable<RuntimeEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var e in _events.Reader.ReadAllAsync(cancellationToken))
        {
            yield return e;
        }
    }

    public static RuntimeSnapshot Snapshot(string infoHash) => new(infoHash, "torrent " + infoHash[..6], TorrentState.Downloading, true, 0.5, 500, 1000, 1000,
        600, 10, 100, 5, 3, 1, 10, 5, [], null);

    private ValueTask Record(string call)
    {
        Calls.Enqueue(call);
        return ValueTask.CompletedTask;
    }
}
