using Microsoft.Extensions.Options;
using TorrentEdge.Contracts;
using TorrentEdge.PeerWorker.Extensions;
using TorrentEdge.PeerWorker.Reconciliation;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.PeerWorker.Ownership;

/// <summary>
/// Ownership by partition: an assigned partition of torrent-specs starts empty (the subscription reads it again from the
/// beginning); a revoked or lost one leaves the desired set, and the revocation returns only once its torrents stopped,
/// so the next owner never runs them on the shared folder at the same time.
/// </summary>
public sealed partial class PartitionOwnership(
    DesiredTorrents desired,
    TorrentReconciler reconciler,
    IOptions<PeerWorkerOptions> options,
    ILogger<PartitionOwnership> logger) : IKafkaPartitionListener
{
    public void OnPartitionsAssigned(KafkaPartitionsChange change)
    {
        if (!IsOurs(change))
        {
            return;
        }
        desired.Assign(change.Partitions);
        LogAssigned(logger, string.Join(',', change.Partitions));
    }

    public void OnPartitionsRevoked(KafkaPartitionsChange change)
    {
        if (!IsOurs(change))
        {
            return;
        }
        var dropped = desired.Release(change.Partitions);
        LogRevoked(logger, string.Join(',', change.Partitions), dropped.Count, change.Lost);
        if (!reconciler.Release(dropped, options.Value.RevocationTimeout))
        {
            LogRevocationSlow(logger, options.Value.RevocationTimeout.TotalSeconds);
        }
    }

    private bool IsOurs(KafkaPartitionsChange change)
        => change.Topic == Topics.TorrentSpecs && change.GroupId == options.Value.ConsumerGroup;

    [LoggerMessage(LogLevel.Information, "Owning partitions {Partitions} of torrent-specs")]
    private static partial void LogAssigned(ILogger logger, string partitions);

    [LoggerMessage(LogLevel.Information, "Giving up partitions {Partitions} of torrent-specs ({Count} torrents, lost: {Lost})")]
    private static partial void LogRevoked(ILogger logger, string partitions, int count, bool lost);

    [LoggerMessage(LogLevel.Warning, "Torrents of revoked partitions did not stop within {Seconds} s")]
    private static partial void LogRevocationSlow(ILogger logger, double seconds);
}
