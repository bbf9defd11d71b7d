using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.PeerWorker.Extensions;
using TorrentEdge.PeerWorker.Infrastructure;
using TorrentEdge.PeerWorker.IntegrationEvents;
using TorrentEdge.PeerWorker.Ownership;
using TorrentEdge.PeerWorker.Reconciliation;

namespace TorrentEdge.PeerWorker.Tests.Support;

/// <summary>The reconciler wired to a fake runtime, a fake Catalog and a recording publisher.</summary>
internal sealed class ReconcilerHarness : IAsyncDisposable
{
    public ReconcilerHarness()
    {
        Options = Microsoft.Extensions.Options.Options.Create(new PeerWorkerOptions
        {
            DownloadRoot = Path.Combine(Path.GetTempPath(), "pw-unit-" + Guid.NewGuid().ToString("n")),
            ReplicaId = "replica-a",
        });
        Outbox = new TorrentEventOutbox(Publisher, TimeProvider.System, NullLogger<TorrentEventOutbox>.Instance);
        Reconciler = new TorrentReconciler(Desired, Owned, Runtime, Catalog, Outbox, Options, TimeProvider.System, NullLogger<TorrentReconciler>.Instance);
        Desired.Assign([0, 1]);
    }

    public DesiredTorrents Desired { get; } = new();
    public OwnedTorrents Owned { get; } = new();
    public FakeTorrentRuntime Runtime { get; } = new();
    public FakeCatalog Catalog { get; } = new();
    public RecordingPublisher Publisher { get; } = new();
    public IOptions<PeerWorkerOptions> Options { get; }
    public TorrentEventOutbox Outbox { get; }
    public TorrentReconciler Reconciler { get; }

    public async Task StartAsync()
    {
        await Outbox.StartAsync(TestContext.Current.CancellationToken);
        await Reconciler.StartAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Folds <paramref name="spec"/> as the consumer would and waits for the pass and its events.</summary>
    public async Task ApplyAsync(TorrentSpecChanged spec, int partition = 0)
    {
        if (Desired.Apply(partition, spec))
        {
            Reconciler.Enqueue(DesiredTorrents.Normalize(spec.InfoHash));
        }
        await SettleAsync();
    }

    public async Task SettleAsync()
    {
        await Reconciler.FlushAsync().WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        await Outbox.FlushAsync(TimeSpan.FromSeconds(10));
    }

    public async ValueTask DisposeAsync()
    {
        await Reconciler.StopAsync(CancellationToken.None);
        await Outbox.StopAsync(CancellationToken.None);
        Reconciler.Dispose();
        Outbox.Dispose();
    }
}

/// <summary>Catalog's metainfo endpoint as a dictionary; unit tests only.</summary>
internal sealed class FakeCatalog : IMetainfoSource
{
    public ConcurrentDictionary<string, byte[]> Metainfo { get; } = new();

    public ConcurrentQueue<string> Requests { get; } = new();

    public Task<byte[]?> GetMetainfoAsync(string infoHash, CancellationToken cancellationToken)
    {
        Requests.Enqueue(infoHash);
        return Task.FromResult(Metainfo.TryGetValue(infoHash, out var bytes) ? bytes : null);
    }
}
