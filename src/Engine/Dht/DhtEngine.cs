using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using TorrentEdge.Engine.Bencoding;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Dht;

/// <summary>What a DHT node has seen so far (counters since start).</summary>
public sealed record DhtStatus(NodeId Id, IPEndPoint? EndPoint, int Nodes, int Buckets, int StoredTorrents, int StoredPeers,
    long QueriesReceived, long QueriesDropped, long MalformedReceived, long ResponsesReceived, long QueriesSent, long Timeouts);

/// <summary>
/// A DHT node (BEP 5) on one UDP socket: answers ping, find_node, get_peers and announce_peer within rate limits, keeps
/// a <see cref="RoutingTable"/> (saved to <see cref="DhtOptions.StateFile"/>), and runs iterative lookups for peers.
/// Every address it sends to passes the <c>allowed</c> check first (the engine's destination policy).
/// </summary>
public sealed class DhtEngine : IAsyncDisposable
{
    private const int MaxPendingQueries = 1024;
    private readonly DhtOptions _options;
    private readonly Func<IPAddress, bool> _allowed;
    private readonly TimeProvider _time;
    private readonly RoutingTable _table;
    private readonly DhtTokens _tokens;
    private readonly QueryRateLimiter _limiter;
    private readonly ConcurrentDictionary<ushort, Pending> _pending = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<DhtContact> _loaded = [];
    private Socket? _socket;
    private Task? _receiveLoop;
    private Task? _maintenanceLoop;
    private int _nextTransaction = Random.Shared.Next(ushort.MaxValue);
    private long _queriesReceived, _queriesDropped, _malformed, _responses, _queriesSent, _timeouts;
    private bool _disposed;

    public DhtEngine(DhtOptions options, Func<IPAddress, bool>? allowed = null)
    {
        _options = options ?? throw new ArgumentNullException(nameof(options));
        _allowed = allowed ?? (_ => true);
        _time = options.TimeProvider;
        _tokens = new DhtTokens(_time);
        _limiter = new QueryRateLimiter(_time, options.QueriesPerSecondPerAddress, options.QueriesPerSecondPerAddress * 4, options.QueriesPerSecond);
        Peers = new PeerStore(_time);
        var id = LoadState(out var savedNodes) ?? NewId();
        _table = new RoutingTable(id, _time, options.RestrictRoutingIps);
        _loaded.AddRange(savedNodes);
        foreach (var c in savedNodes) _table.Seen(c, responded: false, verified: NodeIdSecurity.IsValid(c.Id, c.EndPoint.Address));
    }

    public NodeId Id => _table.OwnId;

    /// <summary>The UDP address the node answers on, once started.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    /// <summary>Peers others announced to us.</summary>
    public PeerStore Peers { get; }

    public int NodeCount { get { lock (_table) return _table.Count; } }

    public DhtStatus Status
    {
        get
        {
            int nodes, buckets;
            lock (_table)
            {
                nodes = _table.Count;
                buckets = _table.BucketCount;
            }
            return new DhtStatus(Id, LocalEndPoint, nodes, buckets, Peers.TorrentCount, Peers.PeerCount, Interlocked.Read(ref _queriesReceived),
                Interlocked.Read(ref _queriesDropped), Interlocked.Read(ref _malformed), Interlocked.Read(ref _responses),
                Interlocked.Read(ref _queriesSent), Interlocked.Read(ref _timeouts));
        }
    }

    /// <summary>The contacts of the routing table (a copy).</summary>
    public IReadOnlyList<DhtContact> Contacts() { lock (_table) return _table.Nodes.Select(n => n.Contact).ToList(); }

    private NodeId NewId()
    {
        var address = _options.ExternalAddress ?? _options.ListenEndPoint?.Address;
        return address is null || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) ? NodeId.Random() : NodeIdSecurity.Generate(address);
    }

    /// <summary>Binds the socket and starts answering, maintenance and the bootstrap.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_socket is not null) return;
        var endPoint = _options.ListenEndPoint ?? new IPEndPoint(IPAddress.Any, 0);
        if (endPoint.Address.Equals(IPAddress.IPv6Any)) endPoint = new IPEndPoint(IPAddress.Any, endPoint.Port);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(endPoint);
        }
        catch (SocketException) when (endPoint.Port != 0)
        {
            // The peer port is taken for UDP by someone else: any port serves, since we tell others ours in every query.
            socket.Bind(new IPEndPoint(endPoint.Address, 0));
        }
        _socket = socket;
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
        _receiveLoop = Task.Run(() => ReceiveLoopAsync(_stopping.Token));
        _maintenanceLoop = Task.Run(() => MaintenanceLoopAsync(_stopping.Token));
    }

    // ---- public operations ----

    /// <summary>
    /// Looks up peers of <paramref name="infoHash"/> (get_peers, iteratively) and, with <paramref name="announcePort"/>,
    /// announces us to the closest nodes that gave a token. Bounded by <see cref="DhtOptions.LookupTimeout"/> and
    /// <see cref="DhtOptions.MaxQueriesPerLookup"/>.
    /// </summary>
    public async Task<IReadOnlyList<IPEndPoint>> GetPeersAsync(InfoHash infoHash, int? announcePort = null, CancellationToken cancellationToken = default,
        Action<IReadOnlyList<IPEndPoint>>? onPeers = null, Func<bool>? mayAnnounce = null)
    {
        // Peers go to onPeers as each answer brings them: the lookup itself may wait seconds more on nodes that left.
        if (onPeers is not null && Peers.Get(infoHash) is { Count: > 0 } stored) onPeers(stored);
        var result = await LookupAsync(NodeId.FromInfoHash(infoHash), infoHash, [], cancellationToken, onPeers).ConfigureAwait(false);
        // Peers announced to this node itself count too: in a small DHT we may be the closest node of all.
        var peers = result.Peers.Concat(Peers.Get(infoHash)).Distinct().ToList();
        if (announcePort is { } port and > 0 && mayAnnounce?.Invoke() != false)
        {
            var announces = result.Closest.Where(c => c.Token is not null).Take(RoutingTable.K)
                .Select(c => QueryAsync(c.Contact.EndPoint, tid => new KrpcQuery(tid, KrpcMethod.AnnouncePeer, Id) { InfoHash = infoHash, Port = port, Token = c.Token }, cancellationToken));
            await Task.WhenAll(announces).ConfigureAwait(false);
        }
        return peers;
    }

    /// <summary>Joins through the bootstrap nodes (and any saved nodes), then looks up our own id to fill the table.</summary>
    public async Task BootstrapAsync(CancellationToken cancellationToken = default)
    {
        var seeds = new List<DhtContact>();
        var endPoints = new List<IPEndPoint>();
        foreach (var entry in _options.BootstrapNodes)
        {
            if (!DhtOptions.TryParseHostPort(entry, out var host, out var port)) continue;
            IPAddress[] addresses;
            try
            {
                addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                continue;
            }
            endPoints.AddRange(addresses.Where(a => a.AddressFamily == AddressFamily.InterNetwork).Select(a => new IPEndPoint(a, port)));
        }
        lock (_loaded) endPoints.AddRange(_loaded.Select(c => c.EndPoint));
        var replies = await Task.WhenAll(endPoints.Distinct().Take(64).Select(ep =>
            QueryAsync(ep, tid => new KrpcQuery(tid, KrpcMethod.FindNode, Id) { Target = Id }, cancellationToken))).ConfigureAwait(false);
        foreach (var r in replies)
            if (r is not null) seeds.AddRange(r.Nodes);
        await LookupAsync(Id, null, seeds, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a ping; true when the node answered.</summary>
    public async Task<bool> PingAsync(IPEndPoint endPoint, CancellationToken cancellationToken = default) =>
        await QueryAsync(endPoint, tid => new KrpcQuery(tid, KrpcMethod.Ping, Id), cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>Writes our id and the routing table's nodes to <see cref="DhtOptions.StateFile"/> (atomically).</summary>
    public void SaveState()
    {
        if (_options.StateFile is not { } path) return;
        List<DhtContact> nodes;
        lock (_table) nodes = _table.Nodes.Where(n => _table.StateOf(n) != NodeState.Bad).Select(n => n.Contact).ToList();
        var d = new BDictionary { ["id"] = new BString(Id.ToArray()), ["nodes"] = new BString(KrpcCodec.CompactNodes(nodes)) };
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, d.Encode());
        File.Move(temp, path, overwrite: true);
    }

    private NodeId? LoadState(out List<DhtContact> nodes)
    {
        nodes = [];
        if (_options.StateFile is not { } path || !File.Exists(path)) return null;
        try
        {
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length > 1 << 20) return null;
            var d = BencodeReader.DecodeDictionary(bytes);
            if (d.Get<BString>("nodes") is { } n) KrpcCodec.ReadCompactNodes(n.Span, nodes, 4096);
            nodes.RemoveAll(c => !_allowed(c.EndPoint.Address));
            if (d.Get<BString>("id") is not { Length: NodeId.Length } id) return null;
            var saved = new NodeId(id.Span);
            // A saved id that no longer matches our (configured) external address is replaced, as BEP 42 asks.
            return _options.ExternalAddress is { } ext && !NodeIdSecurity.IsValid(saved, ext) ? null : saved;
        }
        catch (Exception e) when (e is BencodeException or IOException or UnauthorizedAccessException)
        {
            // A damaged state file costs only the saved nodes: start afresh.
            nodes.Clear();
            return null;
        }
    }

    // ---- lookups ----

    private sealed class Candidate(DhtContact contact)
    {
        public DhtContact Contact { get; } = contact;
        public int State { get; set; } // 0 new, 1 in flight, 2 answered, 3 failed
        public byte[]? Token { get; set; }
    }

    private sealed record LookupResult(IReadOnlyList<IPEndPoint> Peers, IReadOnlyList<Candidate> Closest);

    private async Task<LookupResult> LookupAsync(NodeId target, InfoHash? infoHash, IEnumerable<DhtContact> extraSeeds, CancellationToken cancellationToken,
        Action<IReadOnlyList<IPEndPoint>>? onPeers = null)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        deadline.CancelAfter(_options.LookupTimeout);
        var token = deadline.Token;
        var byEndPoint = new Dictionary<IPEndPoint, Candidate>();
        var list = new List<Candidate>();
        var peers = new HashSet<IPEndPoint>();
        void Offer(DhtContact c)
        {
            if (c.Id == Id || byEndPoint.ContainsKey(c.EndPoint) || !_allowed(c.EndPoint.Address) || c.EndPoint.Port == 0) return;
            if (_options.EnforceNodeId && !NodeIdSecurity.IsValid(c.Id, c.EndPoint.Address)) return;
            var candidate = new Candidate(c);
            byEndPoint[c.EndPoint] = candidate;
            list.Add(candidate);
        }
        List<DhtContact> seeds;
        lock (_table) seeds = _table.Closest(target, RoutingTable.K * 2);
        foreach (var c in seeds.Concat(extraSeeds)) Offer(c);
        var inFlight = new Dictionary<Task<KrpcResponse?>, Candidate>();
        var sent = 0;
        try
        {
            while (!token.IsCancellationRequested)
            {
                list.Sort((x, y) => x.Contact.Id.Xor(target).CompareTo(y.Contact.Id.Xor(target)));
                // Only the K closest that have not failed matter: once all of them answered, the lookup has converged.
                var window = list.Where(c => c.State != 3).Take(RoutingTable.K).ToList();
                while (inFlight.Count < _options.Alpha && sent < _options.MaxQueriesPerLookup && window.Find(c => c.State == 0) is { } next)
                {
                    next.State = 1;
                    sent++;
                    var task = infoHash is { } ih
                        ? QueryAsync(next.Contact.EndPoint, tid => new KrpcQuery(tid, KrpcMethod.GetPeers, Id) { InfoHash = ih }, token)
                        : QueryAsync(next.Contact.EndPoint, tid => new KrpcQuery(tid, KrpcMethod.FindNode, Id) { Target = target }, token);
                    inFlight[task] = next;
                }
                if (inFlight.Count == 0) break;
                var done = await Task.WhenAny(inFlight.Keys).ConfigureAwait(false);
                var candidate = inFlight[done];
                inFlight.Remove(done);
                var response = await done.ConfigureAwait(false);
                if (response is null || response.SenderId != candidate.Contact.Id && candidate.Contact.Id != default)
                {
                    candidate.State = response is null ? 3 : 2;
                    if (response is null) continue;
                }
                candidate.State = 2;
                candidate.Token = response.Token;
                List<IPEndPoint>? fresh = null;
                foreach (var p in response.Values)
                    if (peers.Count < 1000 && peers.Add(p)) (fresh ??= []).Add(p);
                if (fresh is not null) onPeers?.Invoke(fresh);
                foreach (var n in response.Nodes) Offer(n);
                if (list.Count > 256)
                {
                    // Far candidates are never queried once closer ones exist: a reply full of junk nodes costs nothing lasting.
                    list.Sort((x, y) => x.Contact.Id.Xor(target).CompareTo(y.Contact.Id.Xor(target)));
                    foreach (var far in list.Skip(128).Where(c => c.State == 0).ToList())
                    {
                        list.Remove(far);
                        byEndPoint.Remove(far.Contact.EndPoint);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The lookup's time is up: what was found so far is the answer.
        }
        list.Sort((x, y) => x.Contact.Id.Xor(target).CompareTo(y.Contact.Id.Xor(target)));
        return new LookupResult(peers.ToList(), list.Where(c => c.State == 2).Take(RoutingTable.K).ToList());
    }

    // ---- queries out ----

    private sealed record Pending(IPEndPoint EndPoint, TaskCompletionSource<KrpcMessage> Completion);

    private async Task<KrpcResponse?> QueryAsync(IPEndPoint endPoint, Func<byte[], KrpcQuery> build, CancellationToken cancellationToken)
    {
        if (_socket is not { } socket || !_allowed(endPoint.Address) || _pending.Count >= MaxPendingQueries) return null;
        ushort tid = 0;
        var completion = new TaskCompletionSource<KrpcMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        for (var attempt = 0; attempt < 8; attempt++)
        {
            tid = (ushort)Interlocked.Increment(ref _nextTransaction);
            if (_pending.TryAdd(tid, new Pending(endPoint, completion))) break;
            if (attempt == 7) return null;
        }
        try
        {
            var tidBytes = new[] { (byte)(tid >> 8), (byte)tid };
            var bytes = KrpcCodec.Encode(build(tidBytes));
            Interlocked.Increment(ref _queriesSent);
            await socket.SendToAsync(bytes, SocketFlags.None, endPoint, cancellationToken).ConfigureAwait(false);
            var answer = await completion.Task.WaitAsync(_options.QueryTimeout, _time, cancellationToken).ConfigureAwait(false);
            return answer as KrpcResponse;
        }
        catch (TimeoutException)
        {
            Interlocked.Increment(ref _timeouts);
            lock (_table)
            {
                var node = _table.Nodes.FirstOrDefault(n => n.EndPoint.Equals(endPoint));
                if (node is not null) _table.Failed(node.Id);
            }
            return null;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
        finally
        {
            _pending.TryRemove(tid, out _);
        }
    }

    // ---- receiving ----

    private async Task ReceiveLoopAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[KrpcCodec.MaxMessageLength + 1];
        var any = new IPEndPoint(IPAddress.Any, 0);
        while (!cancellationToken.IsCancellationRequested)
        {
            SocketReceiveFromResult received;
            try
            {
                received = await _socket!.ReceiveFromAsync(buffer, SocketFlags.None, any, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException)
            {
                // ICMP "port unreachable" from an earlier send surfaces here on Linux: nothing to do with this read.
                continue;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            var from = (IPEndPoint)received.RemoteEndPoint;
            try
            {
                await HandleDatagramAsync(buffer.AsMemory(0, received.ReceivedBytes), from, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    /// <summary>One datagram: a query is answered (within the rate limits), an answer completes its pending query.</summary>
    internal async Task HandleDatagramAsync(ReadOnlyMemory<byte> datagram, IPEndPoint from, CancellationToken cancellationToken)
    {
        if (from.Address.IsIPv4MappedToIPv6) from = new IPEndPoint(from.Address.MapToIPv4(), from.Port);
        var status = KrpcCodec.TryDecode(datagram, out var message, out var queryTid);
        if (status != KrpcDecodeStatus.Ok)
        {
            Interlocked.Increment(ref _malformed);
            // A query we could not read gets error 203, within the same rate limit as any query.
            if (queryTid is not null && _limiter.TryAcquire(from.Address))
                await SendAsync(new KrpcError(queryTid, KrpcError.Protocol, "invalid arguments"), from, cancellationToken).ConfigureAwait(false);
            return;
        }
        switch (message)
        {
            case KrpcQuery query:
                Interlocked.Increment(ref _queriesReceived);
                if (!_limiter.TryAcquire(from.Address))
                {
                    Interlocked.Increment(ref _queriesDropped);
                    return;
                }
                await SendAsync(Answer(query, from), from, cancellationToken).ConfigureAwait(false);
                if (!query.ReadOnly && query.Method != KrpcMethod.Unknown && from.Port != 0 && _allowed(from.Address)) Note(new DhtContact(query.SenderId, from), responded: false);
                break;
            case KrpcResponse or KrpcError:
                if (message.TransactionId.Length != 2) return;
                var tid = (ushort)(message.TransactionId[0] << 8 | message.TransactionId[1]);
                // Only the address we asked may answer: a spoofed answer from elsewhere cannot complete our query.
                if (!_pending.TryGetValue(tid, out var pending) || !pending.EndPoint.Equals(from)) return;
                Interlocked.Increment(ref _responses);
                if (message is KrpcResponse response) Note(new DhtContact(response.SenderId, from), responded: true);
                pending.Completion.TrySetResult(message);
                break;
        }
    }

    private void Note(DhtContact contact, bool responded)
    {
        var verified = NodeIdSecurity.IsValid(contact.Id, contact.EndPoint.Address);
        if (_options.EnforceNodeId && !verified) return;
        lock (_table) _table.Seen(contact, responded, verified);
    }

    private KrpcMessage Answer(KrpcQuery query, IPEndPoint from)
    {
        switch (query.Method)
        {
            case KrpcMethod.Ping:
                return new KrpcResponse(query.TransactionId, Id);
            case KrpcMethod.FindNode:
                lock (_table) return new KrpcResponse(query.TransactionId, Id) { Nodes = _table.Closest(query.Target!.Value) };
            case KrpcMethod.GetPeers:
            {
                var ih = query.InfoHash!.Value;
                List<DhtContact> nodes;
                lock (_table) nodes = _table.Closest(NodeId.FromInfoHash(ih));
                // Values are limited so that the answer stays one unfragmented datagram.
                return new KrpcResponse(query.TransactionId, Id) { Token = _tokens.Create(from.Address), Values = Peers.Get(ih, 50), Nodes = nodes };
            }
            case KrpcMethod.AnnouncePeer:
                if (!_tokens.Validate(query.Token, from.Address)) return new KrpcError(query.TransactionId, KrpcError.Protocol, "invalid token");
                Peers.Add(query.InfoHash!.Value, new IPEndPoint(from.Address, query.ImpliedPort ? from.Port : query.Port));
                return new KrpcResponse(query.TransactionId, Id);
            default:
                return new KrpcError(query.TransactionId, KrpcError.MethodUnknown, "method unknown");
        }
    }

    private async ValueTask SendAsync(KrpcMessage message, IPEndPoint to, CancellationToken cancellationToken)
    {
        if (_socket is not { } socket || !_allowed(to.Address)) return;
        await socket.SendToAsync(KrpcCodec.Encode(message, to), SocketFlags.None, to, cancellationToken).ConfigureAwait(false);
    }

    // ---- maintenance ----

    private async Task MaintenanceLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            await BootstrapAsync(cancellationToken).ConfigureAwait(false);
            lock (_loaded) _loaded.Clear();
            while (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(_options.MaintenanceInterval, _time, cancellationToken).ConfigureAwait(false);
                await MaintainAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>One round: ping questionable nodes, refresh stale buckets, bootstrap again when nearly empty, purge expired peers, save.</summary>
    internal async Task MaintainAsync(CancellationToken cancellationToken)
    {
        List<RoutingNode> questionable;
        List<NodeId> refresh;
        int count;
        lock (_table)
        {
            questionable = _table.Questionable().Take(16).ToList();
            refresh = _table.RefreshTargets().Take(2).ToList();
            count = _table.Count;
        }
        await Task.WhenAll(questionable.Select(n => PingAsync(n.EndPoint, cancellationToken))).ConfigureAwait(false);
        if (count < RoutingTable.K && _options.BootstrapNodes.Count > 0) await BootstrapAsync(cancellationToken).ConfigureAwait(false);
        foreach (var target in refresh) await LookupAsync(target, null, [], cancellationToken).ConfigureAwait(false);
        Peers.Purge();
        try
        {
            SaveState();
        }
        catch (IOException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket?.Dispose();
        if (_receiveLoop is not null) await _receiveLoop.ConfigureAwait(false);
        if (_maintenanceLoop is not null) await _maintenanceLoop.ConfigureAwait(false);
        try
        {
            if (_socket is not null) SaveState();
        }
        catch (IOException)
        {
        }
        _stopping.Dispose();
    }
}
