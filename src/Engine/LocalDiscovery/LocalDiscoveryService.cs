using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.LocalDiscovery;

/// <summary>
/// Local service discovery (BEP 14): announces the torrents it is given to the multicast group when each starts and
/// then every <see cref="LocalDiscoveryOptions.AnnounceInterval"/>, and hands the peers others announce to the torrent
/// they name. Sending is rate limited (one datagram a tick, at most <see cref="LsdCodec.MaxInfoHashes"/> torrents in it,
/// no torrent more often than <see cref="LocalDiscoveryOptions.MinAnnounceInterval"/>), and so is receiving (a token
/// bucket per source address). Our own announces, which multicast loops back, are known by our cookie.
/// Which torrents may use it (not private ones) is the caller's decision, made in <c>announceable</c> and <c>found</c>.
/// </summary>
public sealed class LocalDiscoveryService : IAsyncDisposable
{
    private readonly ILsdTransport _transport;
    private readonly LocalDiscoveryOptions _options;
    private readonly TimeProvider _time;
    private readonly Func<int> _announcePort;
    private readonly Func<IEnumerable<InfoHash>> _announceable;
    private readonly Action<InfoHash, IPEndPoint> _found;
    private readonly Func<IPAddress, bool> _allowed;
    private readonly Dictionary<InfoHash, Entry> _torrents = [];
    private readonly Dictionary<IPAddress, Bucket> _sources = [];
    private readonly CancellationTokenSource _stopping = new();
    private long _generation;
    private Task? _sendLoop;
    private Task? _receiveLoop;
    private long _sent, _received, _own, _malformed, _limited, _peers;

    /// <param name="announceable">The torrents to announce now (running, and allowed to use local discovery).</param>
    /// <param name="found">Called with a torrent named by another peer's announce and that peer's address; the caller
    /// decides whether the torrent takes it.</param>
    /// <param name="allowed">Whether a peer's address may be dialled (the engine's destination policy); null: any.</param>
    public LocalDiscoveryService(ILsdTransport transport, LocalDiscoveryOptions options, Func<int> announcePort,
        Func<IEnumerable<InfoHash>> announceable, Action<InfoHash, IPEndPoint> found, Func<IPAddress, bool>? allowed = null)
    {
        _transport = transport;
        _options = options;
        _time = options.TimeProvider;
        _announcePort = announcePort;
        _announceable = announceable;
        _found = found;
        _allowed = allowed ?? (_ => true);
        Cookie = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
    }

    /// <summary>Sent in every announce of ours, so that we ignore them when multicast brings them back.</summary>
    public string Cookie { get; }

    /// <summary>Datagrams sent, announces taken, our own heard back, malformed ones, ones over a rate limit, peers handed on.</summary>
    public (long Sent, long Received, long Own, long Malformed, long Limited, long Peers) Counters =>
        (Interlocked.Read(ref _sent), Interlocked.Read(ref _received), Interlocked.Read(ref _own), Interlocked.Read(ref _malformed),
            Interlocked.Read(ref _limited), Interlocked.Read(ref _peers));

    /// <summary>Starts the send loop (a tick every <see cref="LocalDiscoveryOptions.TickInterval"/>) and the receive loop.</summary>
    public void Start()
    {
        if (_sendLoop is not null) return;
        _sendLoop = Task.Run(() => SendLoopAsync(_stopping.Token));
        _receiveLoop = Task.Run(() => ReceiveLoopAsync(_stopping.Token));
    }

    /// <summary>
    /// One step of the sender: notes which torrents are to be announced, and sends one datagram with the ones due (newly
    /// started torrents first). Returns the info-hashes announced (empty when none were due).
    /// </summary>
    public async ValueTask<IReadOnlyList<InfoHash>> TickAsync(CancellationToken cancellationToken = default)
    {
        var now = _time.GetUtcNow();
        var port = _announcePort();
        List<InfoHash> due;
        lock (_torrents)
        {
            var generation = ++_generation;
            foreach (var hash in _announceable())
            {
                if (!_torrents.TryGetValue(hash, out var entry))
                {
                    _torrents[hash] = new Entry { Due = now, Seen = generation };
                    continue;
                }
                // Back after a pause (or a stop): announced again, but not sooner than the minimum interval allows.
                if (entry.Seen != generation - 1) entry.Due = entry.LastSent is { } last ? Max(now, last + _options.MinAnnounceInterval) : now;
                entry.Seen = generation;
            }
            foreach (var (hash, entry) in _torrents.Where(e => e.Value.Seen != generation).ToList())
            {
                // Gone: remembered only as long as the minimum interval needs it.
                if (entry.LastSent is not { } last || last + _options.MinAnnounceInterval <= now) _torrents.Remove(hash);
            }
            if (port is < 1 or > 65535) return [];
            due = _torrents.Where(e => e.Value.Seen == generation && e.Value.Due <= now)
                .OrderBy(e => e.Value.Due).Take(LsdCodec.MaxInfoHashes).Select(e => e.Key).ToList();
            if (due.Count == 0) return [];
            foreach (var hash in due)
            {
                var entry = _torrents[hash];
                entry.LastSent = now;
                entry.Due = now + _options.AnnounceInterval;
            }
        }
        await _transport.SendAsync(LsdCodec.Encode(port, due, Cookie), cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _sent);
        return due;
    }

    /// <summary>Takes one datagram heard on the group from <paramref name="from"/>; true when it was an announce that was taken.</summary>
    public bool Handle(ReadOnlySpan<byte> datagram, IPEndPoint from)
    {
        if (!LsdCodec.TryDecode(datagram, out var announce))
        {
            Interlocked.Increment(ref _malformed);
            return false;
        }
        if (announce!.Cookie == Cookie)
        {
            Interlocked.Increment(ref _own);
            return false;
        }
        var address = from.Address.IsIPv4MappedToIPv6 ? from.Address.MapToIPv4() : from.Address;
        if (!TakeToken(address) || !_allowed(address))
        {
            Interlocked.Increment(ref _limited);
            return false;
        }
        Interlocked.Increment(ref _received);
        var peer = new IPEndPoint(address, announce.Port);
        foreach (var hash in announce.InfoHashes)
        {
            _found(hash, peer);
            Interlocked.Increment(ref _peers);
        }
        return true;
    }

    private bool TakeToken(IPAddress address)
    {
        var now = _time.GetUtcNow();
        var refill = _options.SourceRefillInterval;
        lock (_sources)
        {
            if (!_sources.TryGetValue(address, out var bucket))
            {
                if (_sources.Count >= _options.MaxTrackedSources)
                {
                    // Forget the addresses whose buckets are full again: they lose nothing by it.
                    foreach (var (a, b) in _sources.ToList())
                        if (Tokens(b, now, refill) >= _options.SourceBurst) _sources.Remove(a);
                    if (_sources.Count >= _options.MaxTrackedSources) return false;
                }
                bucket = new Bucket { Tokens = _options.SourceBurst, At = now };
                _sources[address] = bucket;
            }
            bucket.Tokens = Tokens(bucket, now, refill);
            bucket.At = now;
            if (bucket.Tokens < 1) return false;
            bucket.Tokens--;
            return true;
        }
    }

    private double Tokens(Bucket bucket, DateTimeOffset now, TimeSpan refill) =>
        Math.Min(_options.SourceBurst, bucket.Tokens + (refill <= TimeSpan.Zero ? _options.SourceBurst : (now - bucket.At) / refill));

    private async Task SendLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await TickAsync(cancellationToken).ConfigureAwait(false);
                await Task.Delay(_options.TickInterval, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // No route for the group right now (an interface going down): the torrents stay due and go next tick.
                try
                {
                    await Task.Delay(_options.TickInterval, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        // One byte more than a datagram may have, so that an oversized one is seen as such and refused.
        var buffer = new byte[LsdCodec.MaxDatagramBytes + 1];
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var datagram = await _transport.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
                Handle(buffer.AsSpan(0, datagram.Length), datagram.From);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // A datagram's error (ICMP) is not the socket's end; a pause keeps a broken socket from spinning.
                try
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(50), _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
        if (_sendLoop is not null) await _sendLoop.ConfigureAwait(false);
        if (_receiveLoop is not null) await _receiveLoop.ConfigureAwait(false);
        _stopping.Dispose();
    }

    private sealed class Entry
    {
        public DateTimeOffset Due;
        public DateTimeOffset? LastSent;
        public long Seen;
    }

    private sealed class Bucket
    {
        public double Tokens;
        public DateTimeOffset At;
    }
}
