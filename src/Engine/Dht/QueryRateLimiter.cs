using System.Net;
using TorrentEdge.Engine.Common;

namespace TorrentEdge.Engine.Dht;

/// <summary>
/// Limits the queries we answer: a token bucket per source address (libtorrent's <c>dht_block_ratelimit</c> is 5 per
/// second) in a table of bounded size, and one bucket over all sources, so neither one flooder nor many spoofed
/// sources can make us answer (and amplify) without bound. Queries beyond the limits are dropped unanswered.
/// </summary>
public sealed class QueryRateLimiter(TimeProvider? time = null, double perAddressPerSecond = 5, double perAddressBurst = 20,
    double totalPerSecond = 500, int maxAddresses = 4096)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Dictionary<IPAddress, Bucket> _buckets = [];
    private readonly object _gate = new();
    private Bucket _total = new(totalPerSecond, 0);

    public int TrackedAddresses { get { lock (_gate) return _buckets.Count; } }

    /// <summary>Takes one query's token for <paramref name="address"/>; false: drop the query.</summary>
    public bool TryAcquire(IPAddress address)
    {
        var now = _time.NowMilliseconds();
        lock (_gate)
        {
            if (!_buckets.TryGetValue(address, out var bucket))
            {
                if (_buckets.Count >= maxAddresses) Evict(now);
                if (_buckets.Count >= maxAddresses) return false;
                bucket = new Bucket(perAddressBurst, now);
            }
            bucket = bucket.Refill(now, perAddressPerSecond, perAddressBurst);
            _total = _total.Refill(now, totalPerSecond, totalPerSecond);
            if (bucket.Tokens < 1 || _total.Tokens < 1)
            {
                _buckets[address] = bucket;
                return false;
            }
            _buckets[address] = bucket with { Tokens = bucket.Tokens - 1 };
            _total = _total with { Tokens = _total.Tokens - 1 };
            return true;
        }
    }

    private void Evict(long now)
    {
        // A bucket that has refilled completely holds no information: forgetting it changes nothing for its address.
        foreach (var (address, b) in _buckets.ToList())
            if (b.Refill(now, perAddressPerSecond, perAddressBurst).Tokens >= perAddressBurst) _buckets.Remove(address);
    }

    private readonly record struct Bucket(double Tokens, long At)
    {
        public Bucket Refill(long now, double rate, double burst) =>
            new(Math.Min(burst, Tokens + ((now - At) / 1000.0 * rate)), now);
    }
}
