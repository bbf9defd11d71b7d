using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.Engine;
using TorrentEdge.Engine.Encryption;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.PeerWorker.Extensions;
using TorrentEdge.PeerWorker.Runtime;
using TorrentEdge.PeerWorker.Tests.Support;

namespace TorrentEdge.PeerWorker.Tests.Runtime;

/// <summary>
/// A torrent's own encryption policy (the spec's <see cref="TorrentSpecChanged.Encryption"/>) at the runtime/engine
/// seam, on loopback: it overrides the worker's <c>PeerWorker:Encryption</c> for that torrent, at start and when changed.
/// </summary>
public sealed class EngineTorrentRuntimeEncryptionTests : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "pw-enc-" + Guid.NewGuid().ToString("n"));
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly PeerWorkerOptions _options;
    private readonly EngineTorrentRuntime _runtime;

    public EngineTorrentRuntimeEncryptionTests()
    {
        // The worker prefers encryption (the default): plaintext peers are welcome unless the torrent says otherwise.
        _options = new PeerWorkerOptions { DownloadRoot = Path.Combine(_root, "downloads"), ListenAddress = "127.0.0.1", PeerPort = 0 };
        _runtime = new EngineTorrentRuntime(Microsoft.Extensions.Options.Options.Create(_options), _services.GetRequiredService<IMeterFactory>(),
            TimeProvider.System, NullLogger<EngineTorrentRuntime>.Instance);
    }

    private async Task<(bool Completed, int Encrypted)> LeechAsync(byte[] metainfo, EncryptionPolicy policy, TimeSpan bound)
    {
        var ct = TestContext.Current.CancellationToken;
        var dir = Path.Combine(_root, "leech-" + Guid.NewGuid().ToString("n")[..6]);
        await using var engine = new ClientEngine(new EngineOptions
        {
            ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0),
            DownloadDirectory = dir,
            Encryption = policy,
        });
        await engine.StartAsync(ct);
        var torrent = await engine.AddAsync(TorrentMetainfo.Parse(metainfo), new AddTorrentOptions { SavePath = dir, Peers = [_runtime.ListenEndPoint!] }, ct);
        var deadline = DateTime.UtcNow + bound;
        var encrypted = 0;
        while (DateTime.UtcNow < deadline)
        {
            var s = torrent.Status;
            encrypted = Math.Max(encrypted, s.EncryptedPeers);
            if (s.State is Engine.Torrents.TorrentState.Seeding or Engine.Torrents.TorrentState.Finished) return (true, encrypted);
            await Task.Delay(50, ct);
        }
        return (false, encrypted);
    }

    [Fact]
    public async Task TorrentEncryption_RequireAtStartThenDisable_RefusesThenAdmitsAPlaintextPeer()
    {
        var ct = TestContext.Current.CancellationToken;
        await _runtime.InitializeAsync(ct);
        var (hash, metainfo) = await TestTorrents.CreateAsync(Path.Combine(_root, "src"), "movie.bin");
        var folder = _options.GetTorrentFolder(hash);
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(_root, "src", "movie.bin"), Path.Combine(folder, "movie.bin"));

        await _runtime.StartAsync(new TorrentStartRequest(hash, metainfo, null, folder, false, TorrentPriority.Normal, []) { Encryption = PeerEncryption.Require }, ct);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (_runtime.GetSnapshot(hash)?.State != TorrentState.Seeding && DateTime.UtcNow < deadline) await Task.Delay(50, ct);

        // Under the torrent's require, a plaintext-only peer gets nothing, and an encrypting one everything.
        Assert.False((await LeechAsync(metainfo, EncryptionPolicy.Disable, TimeSpan.FromSeconds(4))).Completed);
        var rc4 = await LeechAsync(metainfo, EncryptionPolicy.Require, TimeSpan.FromSeconds(30));
        Assert.True(rc4.Completed);
        Assert.Equal(1, rc4.Encrypted);

        // The spec changes to disable: from now on the plaintext peer is taken.
        await _runtime.SetEncryptionAsync(hash, PeerEncryption.Disable, ct);
        var plain = await LeechAsync(metainfo, EncryptionPolicy.Disable, TimeSpan.FromSeconds(30));
        Assert.True(plain.Completed);
        Assert.Equal(0, plain.Encrypted);
    }

    public async ValueTask DisposeAsync()
    {
        await _runtime.DisposeAsync();
        await _services.DisposeAsync();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
