using System.Diagnostics.Metrics;
using TorrentEdge.PeerWorker.Ownership;
using TorrentEdge.PeerWorker.Reconciliation;
using TorrentEdge.PeerWorker.Runtime;

namespace TorrentEdge.PeerWorker.Extensions;

/// <summary>The replica's instruments on the Meter "TorrentEdge.PeerWorker": owned partitions and torrents, rates, peers, pieces.</summary>
public sealed class PeerWorkerMetrics
{
    public const string MeterName = "TorrentEdge.PeerWorker";
    private readonly Counter<long> _piecesVerified;

    public PeerWorkerMetrics(IMeterFactory meterFactory, OwnedTorrents owned, DesiredTorrents desired, ITorrentRuntime runtime)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("torrentedge.peerworker.owned_torrents", () => owned.Count, "{torrent}", "Torrents this replica runs.");
        meter.CreateObservableGauge("torrentedge.peerworker.owned_partitions", () => desired.OwnedPartitions.Count, "{partition}",
            "Partitions of torrent-specs assigned to this replica.");
        meter.CreateObservableGauge("torrentedge.peerworker.download_rate", () => runtime.GetSnapshots().Sum(s => s.DownloadRate), "By/s",
            "Payload download rate over the replica's torrents.");
        meter.CreateObservableGauge("torrentedge.peerworker.upload_rate", () => runtime.GetSnapshots().Sum(s => s.UploadRate), "By/s",
            "Payload upload rate over the replica's torrents.");
        meter.CreateObservableGauge("torrentedge.peerworker.peers", () => runtime.GetSnapshots().Sum(s => s.Peers), "{peer}", "Connected peers.");
        _piecesVerified = meter.CreateCounter<long>("torrentedge.peerworker.pieces_verified", "{piece}", "Pieces that passed their hash check.");
    }

    public void PiecesVerified(int count) => _piecesVerified.Add(count);
}
