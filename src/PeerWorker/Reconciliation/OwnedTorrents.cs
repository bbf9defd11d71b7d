using System.Collections.Concurrent;

namespace TorrentEdge.PeerWorker.Reconciliation;

/// <summary>
/// The torrents this replica runs right now and their owners (user ids), so every event can carry them.
/// Written by the reconciler, read by the event translator, metrics and tests.
/// </summary>
public sealed class OwnedTorrents
{
    private readonly ConcurrentDictionary<string, IReadOnlyList<string>> _owners = new(StringComparer.Ordinal);

    public int Count => _owners.Count;

    public IReadOnlyCollection<string> InfoHashes => [.. _owners.Keys];

    public bool Contains(string infoHash) => _owners.ContainsKey(infoHash);

    public bool TryGetOwners(string infoHash, out IReadOnlyList<string> owners)
    {
        if (_owners.TryGetValue(infoHash, out var found))
        {
            owners = found;
            return true;
        }
        owners = [];
        return false;
    }

    internal void Set(string infoHash, IReadOnlyList<string> owners) => _owners[infoHash] = owners;

    internal void Remove(string infoHash) => _owners.TryRemove(infoHash, out _);
}
