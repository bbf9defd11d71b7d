using System.Diagnostics.Metrics;

namespace TorrentEdge.Engine;

/// <summary>The engine's instruments on the Meter "TorrentEdge.Engine" (collected by OpenTelemetry in the services).</summary>
public sealed class EngineMetrics : IDisposable
{
    public const string MeterName = "TorrentEdge.Engine";
    private readonly Meter _meter;
    private readonly Counter<long> _downloaded;
    private readonly Counter<long> _uploaded;
    private readonly Counter<long> _verified;
    private readonly Counter<long> _hashFailed;
    private readonly Counter<long> _protocolErrors;

    internal EngineMetrics(ClientEngine engine, IMeterFactory? factory)
    {
        _meter = factory?.Create(MeterName) ?? new Meter(MeterName, "1.0");
        _downloaded = _meter.CreateCounter<long>("torrentedge.engine.bytes_downloaded", "By", "Payload bytes received from peers.");
        _uploaded = _meter.CreateCounter<long>("torrentedge.engine.bytes_uploaded", "By", "Payload bytes sent to peers.");
        _verified = _meter.CreateCounter<long>("torrentedge.engine.pieces_verified", "{piece}", "Pieces that passed the hash check.");
        _hashFailed = _meter.CreateCounter<long>("torrentedge.engine.pieces_hash_failed", "{piece}", "Pieces that failed the hash check.");
        _protocolErrors = _meter.CreateCounter<long>("torrentedge.engine.protocol_errors", "{peer}", "Peers disconnected for malformed or unsolicited messages.");
        _meter.CreateObservableGauge("torrentedge.engine.torrents", () => engine.Torrents.Count, "{torrent}", "Torrents in the engine.");
        _meter.CreateObservableGauge("torrentedge.engine.peers", () => engine.Torrents.Sum(t => t.Status.Peers), "{peer}", "Connected peers.");
        _meter.CreateObservableGauge("torrentedge.engine.download_rate", () => engine.Torrents.Sum(t => t.Status.DownloadRate), "By/s", "Payload download rate.");
        _meter.CreateObservableGauge("torrentedge.engine.upload_rate", () => engine.Torrents.Sum(t => t.Status.UploadRate), "By/s", "Payload upload rate.");
    }

    public Meter Meter => _meter;

    internal void BytesDownloaded(long n) => _downloaded.Add(n);

    internal void BytesUploaded(long n) => _uploaded.Add(n);

    internal void PieceVerified() => _verified.Add(1);

    internal void HashFailed() => _hashFailed.Add(1);

    internal void ProtocolError() => _protocolErrors.Add(1);

    public void Dispose() => _meter.Dispose();
}
