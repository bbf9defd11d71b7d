using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.PeerWorker.Extensions;
using TorrentEdge.PeerWorker.IntegrationEvents;
using TorrentEdge.PeerWorker.Ownership;
using TorrentEdge.PeerWorker.Reconciliation;
using TorrentEdge.PeerWorker.Runtime;
using TorrentEdge.PeerWorker.Tests.Support;
using static TorrentEdge.PeerWorker.Tests.Support.TestTorrents;

namespace TorrentEdge.PeerWorker.Tests.Extensions;

/// <summary>The replica's Meter: owned torrents and partitions, rates, peers and verified pieces, as a collector reads them.</summary>
public sealed class PeerWorkerMetricsTests : IAsyncDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly Dictionary<string, long> _values = [];
    private readonly MeterListener _listener = new();

    [Fact]
    public async Task Instruments_ReportOwnedTorrentsPartitionsRatesPeersAndVerifiedPieces()
    {
        var factory = _services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // Only this test's factory: other tests running in parallel have the same Meter name.
            if (instrument.Meter.Name == PeerWorkerMetrics.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => Record(instrument, value));
        _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => Record(instrument, value));
        _listener.Start();

        var runtime = new FakeTorrentRuntime();
        var owned = new OwnedTorrents();
        var desired = new DesiredTorrents();
        var metrics = new PeerWorkerMetrics(factory, owned, desired, runtime);
        desired.Assign([0, 2, 5]);
        foreach (var n in new[] { 1, 2 })
        {
            owned.Set(Hash(n), ["alice"]);
            await runtime.StartAsync(new TorrentStartRequest(Hash(n), null, "magnet:?xt=urn:btih:" + Hash(n), "/tmp/x", false, TorrentPriority.Normal, []),
                TestContext.Current.CancellationToken);
        }
        using var outbox = new TorrentEventOutbox(new RecordingPublisher(), TimeProvider.System, NullLogger<TorrentEventOutbox>.Instance);
        var translator = new TorrentEventTranslator(runtime, owned, outbox, metrics,
            Microsoft.Extensions.Options.Options.Create(new PeerWorkerOptions()), TimeProvider.System, NullLogger<TorrentEventTranslator>.Instance);
        translator.Translate(new RuntimePiecesVerified(Hash(1), [0, 1, 2], 3, 10));
        translator.Translate(new RuntimePiecesVerified(Hash(2), [7], 1, 10));

        _listener.RecordObservableInstruments();

        Assert.Equal(2, Value("owned_torrents"));
        Assert.Equal(3, Value("owned_partitions"));
        // FakeTorrentRuntime.Snapshot: 100 B/s down, 5 B/s up, 3 peers per torrent.
        Assert.Equal(200, Value("download_rate"));
        Assert.Equal(10, Value("upload_rate"));
        Assert.Equal(6, Value("peers"));
        Assert.Equal(4, Value("pieces_verified"));
    }

    private void Record(Instrument instrument, long value)
    {
        lock (_values)
        {
            // Gauges report their current value; the counter adds up.
            _values[instrument.Name] = instrument is Counter<long> ? _values.GetValueOrDefault(instrument.Name) + value : value;
        }
    }

    private long Value(string name)
    {
        lock (_values)
        {
            return _values.TryGetValue("torrentedge.peerworker." + name, out var value) ? value : throw new Xunit.Sdk.XunitException("no measurement of " + name);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _services.DisposeAsync();
    }
}
