using System.Globalization;
using MassTransit;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.PeerWorker.Reconciliation;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.PeerWorker.Ownership;

/// <summary>Folds each spec read from torrent-specs into the desired set and queues a reconciliation when it changed.</summary>
public sealed class TorrentSpecConsumer(DesiredTorrents desired, TorrentReconciler reconciler) : IConsumer<TorrentSpecChanged>
{
    public Task Consume(ConsumeContext<TorrentSpecChanged> context)
    {
        var partition = context.Headers.TryGetHeader(KafkaHeaders.SourcePartition, out var value) && value is not null
            ? Convert.ToInt32(value, CultureInfo.InvariantCulture)
            : throw new InvalidOperationException("The message does not say which partition it came from.");
        if (desired.Apply(partition, context.Message))
        {
            reconciler.Enqueue(DesiredTorrents.Normalize(context.Message.InfoHash));
        }
        return Task.CompletedTask;
    }
}
