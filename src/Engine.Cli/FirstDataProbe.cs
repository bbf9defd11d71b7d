using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace TorrentEdge.Engine.Cli;

/// <summary>
/// Times the first payload block received and the first piece verified and written, from the
/// engine's own counters (a <see cref="MeterListener"/>), measured from the process start. Each
/// instrument stops being listened to after its first measurement, so the hot path pays once.
/// </summary>
internal sealed class FirstDataProbe : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TimeSpan _processAge;
    private long _firstBlockTicks = -1;
    private long _firstPieceTicks = -1;

    public FirstDataProbe()
    {
        using (var self = Process.GetCurrentProcess())
            _processAge = DateTime.Now - self.StartTime;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == EngineMetrics.MeterName
                && instrument.Name is "torrentedge.engine.bytes_downloaded" or "torrentedge.engine.pieces_verified")
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, _, _, _) =>
        {
            var now = _clock.ElapsedTicks;
            ref var slot = ref instrument.Name == "torrentedge.engine.pieces_verified" ? ref _firstPieceTicks : ref _firstBlockTicks;
            if (Interlocked.CompareExchange(ref slot, now, -1) == -1) _listener.DisableMeasurementEvents(instrument);
        });
        _listener.Start();
    }

    /// <summary>Seconds from process start to the first block received; null if none yet.</summary>
    public double? FirstBlockSeconds => Seconds(Interlocked.Read(ref _firstBlockTicks));

    /// <summary>Seconds from process start to the first piece verified and written to disk; null if none yet.</summary>
    public double? FirstPieceSeconds => Seconds(Interlocked.Read(ref _firstPieceTicks));

    /// <summary>Seconds since the process started.</summary>
    public double Now => (_processAge + _clock.Elapsed).TotalSeconds;

    private double? Seconds(long ticks) =>
        ticks < 0 ? null : (_processAge + TimeSpan.FromSeconds((double)ticks / Stopwatch.Frequency)).TotalSeconds;

    public void Dispose() => _listener.Dispose();
}
