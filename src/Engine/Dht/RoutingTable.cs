using System.Net;
using TorrentEdge.Engine.Common;

namespace TorrentEdge.Engine.Dht;

/// <summary>One node in the routing table with what we know of its health.</summary>
public sealed class RoutingNode(DhtContact contact, bool verified, long now)
{
    public DhtContact Contact { get; private set; } = contact;
    public NodeId Id => Contact.Id;
    public IPEndPoint EndPoint => Contact.EndPoint;
    /// <summary>Its id matches its address under BEP 42 (or the address is local).</summary>
    public bool Verified { get; } = verified;
    /// <summary>Last answer to one of our queries (ms on the engine clock); null: it never answered.</summary>
    public long? LastResponse { get; internal set; }
    /// <summary>Last time it answered or queried us.</summary>
    public long LastSeen { get; internal set; } = now;
    /// <summary>Queries in a row it did not answer.</summary>
    public int FailedQueries { get; internal set; }
}

/// <summary>The health of a node, as BEP 5 defines it.</summary>
public enum NodeState
{
    /// <summary>Answered within 15 minutes, or answered once and queried us within 15 minutes.</summary>
    Good,
    /// <summary>Nothing heard for 15 minutes (or never answered yet): ping before trusting or dropping it.</summary>
    Questionable,
    /// <summary>Failed several queries in a row: replaced by the first candidate.</summary>
    Bad,
}

/// <summary>
/// Kademlia k-buckets (BEP 5): k = 8 nodes per bucket, the bucket that covers our own id splits when full, one node per
/// IP address (as libtorrent's <c>dht_restrict_routing_ips</c>), a replacement cache per bucket, and BEP 42 preference
/// for verified ids when a bucket is full. Time is the injected clock's, so tests step it. Not thread-safe: its owner
/// (<see cref="DhtEngine"/>) holds a lock around it.
/// </summary>
public sealed class RoutingTable
{
    public const int K = 8;
    public const int MaxFailures = 2;
    public static readonly TimeSpan GoodFor = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan RefreshAfter = TimeSpan.FromMinutes(15);

    private readonly List<Bucket> _buckets = [];
    private readonly Dictionary<IPAddress, NodeId> _byAddress = [];
    private readonly TimeProvider _time;

    public RoutingTable(NodeId ownId, TimeProvider? time = null, bool restrictIps = true)
    {
        OwnId = ownId;
        _time = time ?? TimeProvider.System;
        RestrictIps = restrictIps;
        _buckets.Add(new Bucket(_time.NowMilliseconds()));
    }

    public NodeId OwnId { get; }

    /// <summary>One node per IP address (libtorrent's <c>dht_restrict_routing_ips</c>).</summary>
    public bool RestrictIps { get; }

    public int Count => _buckets.Sum(b => b.Nodes.Count);

    public int BucketCount => _buckets.Count;

    public IEnumerable<RoutingNode> Nodes => _buckets.SelectMany(b => b.Nodes);

    private long Now => _time.NowMilliseconds();

    public NodeState StateOf(RoutingNode node)
    {
        if (node.FailedQueries >= MaxFailures) return NodeState.Bad;
        if (node.LastResponse is null) return NodeState.Questionable;
        return Now - node.LastSeen < GoodFor.TotalMilliseconds ? NodeState.Good : NodeState.Questionable;
    }

    private int BucketIndex(NodeId id) => Math.Min(OwnId.CommonPrefixLength(id), _buckets.Count - 1);

    public RoutingNode? Find(NodeId id)
    {
        var bucket = _buckets[BucketIndex(id)];
        return bucket.Nodes.Find(n => n.Id == id);
    }

    /// <summary>
    /// Records that <paramref name="contact"/> answered a query (<paramref name="responded"/>) or queried us. Adds it
    /// when its bucket has room (or splits, or holds a bad node, or an unverified one when it is verified); else it
    /// waits in the bucket's replacement cache. Returns false when it was refused (our id, another id on a known address).
    /// </summary>
    public bool Seen(DhtContact contact, bool responded, bool verified = true)
    {
        if (contact.Id == OwnId) return false;
        var now = Now;
        var address = contact.EndPoint.Address;
        if (_byAddress.TryGetValue(address, out var known) && known != contact.Id && RestrictIps) return false;
        var existing = Find(contact.Id);
        if (existing is not null)
        {
            // An id moving to another address is not believed (it could be anyone claiming it).
            if (!existing.EndPoint.Equals(contact.EndPoint)) return false;
            existing.LastSeen = now;
            if (responded)
            {
                existing.LastResponse = now;
                existing.FailedQueries = 0;
            }
            _buckets[BucketIndex(contact.Id)].LastChanged = now;
            return true;
        }
        var node = new RoutingNode(contact, verified, now) { LastResponse = responded ? now : null };
        while (true)
        {
            var index = BucketIndex(contact.Id);
            var bucket = _buckets[index];
            if (bucket.Nodes.Count < K)
            {
                Insert(bucket, node, now);
                return true;
            }
            if (index == _buckets.Count - 1 && _buckets.Count < 160)
            {
                Split();
                continue;
            }
            var victim = bucket.Nodes.Find(n => StateOf(n) == NodeState.Bad)
                ?? (verified ? bucket.Nodes.Find(n => !n.Verified && StateOf(n) != NodeState.Good) : null);
            if (victim is not null)
            {
                Remove(bucket, victim);
                Insert(bucket, node, now);
                return true;
            }
            if (responded && !bucket.Replacements.Exists(n => n.Id == node.Id))
            {
                if (bucket.Replacements.Count >= K) bucket.Replacements.RemoveAt(0);
                bucket.Replacements.Add(node);
            }
            return false;
        }
    }

    /// <summary>A query to <paramref name="id"/> went unanswered; a bad node gives way to the freshest replacement.</summary>
    public void Failed(NodeId id)
    {
        var bucket = _buckets[BucketIndex(id)];
        var node = bucket.Nodes.Find(n => n.Id == id);
        if (node is null) return;
        node.FailedQueries++;
        if (node.FailedQueries < MaxFailures || bucket.Replacements.Count == 0) return;
        Remove(bucket, node);
        var replacement = bucket.Replacements[^1];
        bucket.Replacements.RemoveAt(bucket.Replacements.Count - 1);
        if (!(RestrictIps && _byAddress.ContainsKey(replacement.EndPoint.Address))) Insert(bucket, replacement, Now);
    }

    /// <summary>The <paramref name="count"/> nodes closest to <paramref name="target"/> that are not bad.</summary>
    public List<DhtContact> Closest(NodeId target, int count = K)
    {
        var all = new List<RoutingNode>(Count);
        foreach (var b in _buckets)
            foreach (var n in b.Nodes)
                if (StateOf(n) != NodeState.Bad) all.Add(n);
        all.Sort((x, y) => x.Id.Xor(target).CompareTo(y.Id.Xor(target)));
        return all.Take(count).Select(n => n.Contact).ToList();
    }

    /// <summary>Nodes not heard from for 15 minutes (or never answered): to be pinged.</summary>
    public List<RoutingNode> Questionable() => Nodes.Where(n => StateOf(n) == NodeState.Questionable).ToList();

    /// <summary>A random target in each bucket unchanged for 15 minutes: a find_node there refreshes it.</summary>
    public List<NodeId> RefreshTargets()
    {
        var now = Now;
        var targets = new List<NodeId>();
        for (var i = 0; i < _buckets.Count; i++)
            if (now - _buckets[i].LastChanged >= RefreshAfter.TotalMilliseconds)
            {
                targets.Add(OwnId.RandomWithPrefix(i));
                _buckets[i].LastChanged = now;
            }
        return targets;
    }

    private void Insert(Bucket bucket, RoutingNode node, long now)
    {
        bucket.Nodes.Add(node);
        bucket.LastChanged = now;
        _byAddress[node.EndPoint.Address] = node.Id;
    }

    private void Remove(Bucket bucket, RoutingNode node)
    {
        bucket.Nodes.Remove(node);
        _byAddress.Remove(node.EndPoint.Address);
    }

    private void Split()
    {
        var last = _buckets[^1];
        var depth = _buckets.Count - 1;
        var next = new Bucket(last.LastChanged);
        _buckets.Add(next);
        // Nodes sharing more than `depth` bits with us move to the new, deeper bucket.
        foreach (var n in last.Nodes.Where(n => OwnId.CommonPrefixLength(n.Id) > depth).ToList())
        {
            last.Nodes.Remove(n);
            next.Nodes.Add(n);
        }
        foreach (var n in last.Replacements.Where(n => OwnId.CommonPrefixLength(n.Id) > depth).ToList())
        {
            last.Replacements.Remove(n);
            next.Replacements.Add(n);
        }
    }

    private sealed class Bucket(long now)
    {
        public List<RoutingNode> Nodes { get; } = new(K);
        public List<RoutingNode> Replacements { get; } = [];
        public long LastChanged { get; set; } = now;
    }
}
