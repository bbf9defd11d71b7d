using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Options;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Storage;
using TorrentEdge.PeerWorker.Extensions;

namespace TorrentEdge.PeerWorker.Ownership;

/// <summary>
/// Fences replicas that lost a torrent (docs/peerworker.md, Fencing). The replica that starts or removes a torrent claims it:
/// it writes a token of its own to <c>ResumeRoot/&lt;info-hash&gt;.owner</c>. Before every write or delete of the torrent's
/// files and resume data the engine asks <see cref="MayWrite(InfoHash)"/>, which holds only while that file still holds
/// this replica's token. The file is read again once the last reading is older than
/// <see cref="PeerWorkerOptions.FenceRecheckInterval"/> on the monotonic clock, which runs on while a process is stopped:
/// a replica frozen past its session timeout, whose torrent another replica claimed meanwhile, reads the file again at its
/// first write after SIGCONT and is refused. A refusal is final for that claim.
/// </summary>
public sealed partial class TorrentFence : IStorageFence, IDisposable
{
    private readonly ConcurrentDictionary<string, Held> _claims = new(StringComparer.Ordinal);
    private readonly string _root;
    private readonly string _replicaId;
    private readonly TimeSpan _recheck;
    private readonly TimeProvider _time;
    private readonly ILogger<TorrentFence> _logger;
    private readonly StreamWriter? _log;
    private readonly Lock _logGate = new();

    public TorrentFence(IOptions<PeerWorkerOptions> options, TimeProvider time, ILogger<TorrentFence> logger)
    {
        var o = options.Value;
        _root = o.GetResumeRoot();
        Directory.CreateDirectory(_root);
        _replicaId = o.ReplicaId;
        _recheck = o.FenceRecheckInterval;
        _time = time;
        _logger = logger;
        if (o.FenceLogDirectory is { Length: > 0 } logDirectory)
        {
            Directory.CreateDirectory(logDirectory);
            _log = new StreamWriter(new FileStream(Path.Combine(logDirectory, _replicaId + ".log"), FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };
        }
    }

    /// <summary>The owner file of a torrent.</summary>
    public string PathOf(string infoHash) => Path.Combine(_root, infoHash + ".owner");

    /// <summary>Makes this replica the torrent's writer: its token goes into the owner file (written whole, then renamed over it).</summary>
    public void Claim(string infoHash)
    {
        var token = $"{_replicaId} {Guid.NewGuid():N}";
        var path = PathOf(infoHash);
        var temporary = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(temporary, token);
        File.Move(temporary, path, overwrite: true);
        _claims[infoHash] = new Held(token, _time.GetTimestamp(), Valid: true);
        Log("claimed", infoHash);
    }

    /// <summary>Whether this replica holds a claim on the torrent, valid or not.</summary>
    public bool HasClaim(string infoHash) => _claims.ContainsKey(infoHash);

    /// <summary>Forgets the claim (the torrent stopped here); the file stays for the next owner to overwrite.</summary>
    public void Release(string infoHash)
    {
        if (_claims.TryRemove(infoHash, out _))
        {
            Log("released", infoHash);
        }
    }

    /// <summary>After a removal: deletes the owner file if it is still this replica's, so no earlier owner finds a claim to match.</summary>
    public void Drop(string infoHash)
    {
        if (_claims.TryRemove(infoHash, out var claim) && ReadToken(infoHash) == claim.Token)
        {
            File.Delete(PathOf(infoHash));
        }
        Log("dropped", infoHash);
    }

    public bool MayWrite(InfoHash infoHash) => MayWrite(infoHash.ToHex());

    public bool MayWrite(string infoHash)
    {
        var allowed = Check(infoHash);
        Log(allowed ? "allowed" : "refused", infoHash);
        return allowed;
    }

    /// <summary>Of <paramref name="running"/>, the torrents this replica may no longer write (for its health).</summary>
    public IReadOnlyList<string> Fenced(IEnumerable<string> running) => [.. running.Where(h => _claims.ContainsKey(h) && !Check(h))];

    private bool Check(string infoHash)
    {
        if (!_claims.TryGetValue(infoHash, out var claim) || !claim.Valid)
        {
            return false;
        }
        var now = _time.GetTimestamp();
        if (_time.GetElapsedTime(claim.CheckedAt, now) < _recheck)
        {
            return true;
        }
        var holder = ReadToken(infoHash);
        var valid = holder == claim.Token;
        // Only a claim still current is updated: a Release or a newer Claim meanwhile wins.
        _claims.TryUpdate(infoHash, claim with { CheckedAt = now, Valid = valid }, claim);
        if (!valid)
        {
            LogFenced(_logger, infoHash, holder?.Split(' ')[0] ?? "nobody (removed)");
        }
        return valid;
    }

    private string? ReadToken(string infoHash)
    {
        try
        {
            return File.ReadAllText(PathOf(infoHash));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    private void Log(string what, string infoHash)
    {
        if (_log is null)
        {
            return;
        }
        lock (_logGate)
        {
            _log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{_time.GetUtcNow():O} {what} {infoHash}"));
        }
    }

    public void Dispose() => _log?.Dispose();

    private sealed record Held(string Token, long CheckedAt, bool Valid);

    [LoggerMessage(LogLevel.Warning, "Fenced: {InfoHash} is held by {Holder} now; this replica writes and deletes none of its files any more")]
    private static partial void LogFenced(ILogger logger, string infoHash, string holder);
}
