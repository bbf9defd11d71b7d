using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.PeerWorker.Ownership;

/// <summary>
/// The desired set of this replica: the latest spec of every torrent in the partitions it is assigned, folded from
/// torrent-specs (newest revision wins; a removed spec stays as a tombstone so an older spec seen later cannot revive it).
/// Written by the consumer's thread, read by the reconciler.
/// </summary>
public sealed class DesiredTorrents
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (int Partition, TorrentSpecChanged Spec)> _byHash = new(StringComparer.Ordinal);
    private readonly Dictionary<int, HashSet<string>> _byPartition = [];

    /// <summary>Partitions currently owned, in order.</summary>
    public IReadOnlyList<int> OwnedPartitions
    {
        get
        {
            lock (_gate)
            {
                return [.. _byPartition.Keys.Order()];
            }
        }
    }

    /// <summary>Torrents in the desired set that are not removed.</summary>
    public int ActiveCount
    {
        get
        {
            lock (_gate)
            {
                return _byHash.Values.Count(e => !e.Spec.Removed);
            }
        }
    }

    /// <summary>Normalises an info-hash key to the 40 lower-case hex characters used everywhere in the worker.</summary>
    public static string Normalize(string infoHash) => infoHash.Trim().ToLowerInvariant();

    /// <summary>Takes ownership of <paramref name="partitions"/>, empty: they are read again from the beginning.</summary>
    public void Assign(IEnumerable<int> partitions)
    {
        lock (_gate)
        {
            foreach (var partition in partitions)
            {
                DropPartition(partition);
                _byPartition[partition] = new HashSet<string>(StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Gives <paramref name="partitions"/> up; returns the info-hashes that left the desired set.</summary>
    public IReadOnlyList<string> Release(IEnumerable<int> partitions)
    {
        var dropped = new List<string>();
        lock (_gate)
        {
            foreach (var partition in partitions)
            {
                dropped.AddRange(DropPartition(partition));
            }
        }
        return dropped;
    }

    /// <summary>
    /// Folds one spec read from <paramref name="partition"/>. True when the desired state changed (a newer revision);
    /// false for an older or equal revision, or a partition this replica does not own.
    /// </summary>
    public bool Apply(int partition, TorrentSpecChanged spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var hash = Normalize(spec.InfoHash);
        lock (_gate)
        {
            if (!_byPartition.TryGetValue(partition, out var hashes))
            {
                return false;
            }
            if (_byHash.TryGetValue(hash, out var current) && current.Spec.Revision >= spec.Revision)
            {
                return false;
            }
            _byHash[hash] = (partition, spec with { InfoHash = hash });
            hashes.Add(hash);
            return true;
        }
    }

    /// <summary>The latest spec of <paramref name="infoHash"/>, or null when this replica does not own it.</summary>
    public TorrentSpecChanged? Get(string infoHash)
    {
        lock (_gate)
        {
            return _byHash.TryGetValue(infoHash, out var entry) ? entry.Spec : null;
        }
    }

    /// <summary>Every info-hash in the desired set, tombstones included.</summary>
    public IReadOnlyList<string> InfoHashes()
    {
        lock (_gate)
        {
            return [.. _byHash.Keys];
        }
    }

    private List<string> DropPartition(int partition)
    {
        if (!_byPartition.Remove(partition, out var hashes))
        {
            return [];
        }
        foreach (var hash in hashes)
        {
            _byHash.Remove(hash);
        }
        return [.. hashes];
    }
}
