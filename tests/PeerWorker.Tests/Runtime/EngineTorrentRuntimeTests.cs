using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.Engine.Creation;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.PeerWorker.Extensions;
using TorrentEdge.PeerWorker.Runtime;
using TorrentEdge.PeerWorker.Tests.Support;

namespace TorrentEdge.PeerWorker.Tests.Runtime;

/// <summary>The adapter over the real engine, on loopback and temporary folders.</summary>
public sealed class EngineTorrentRuntimeTests : IAsyncDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "pw-runtime-" + Guid.NewGuid().ToString("n"));
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly PeerWorkerOptions _options;
    private readonly EngineTorrentRuntime _runtime;

    public EngineTorrentRuntimeTests()
    {
        _options = new PeerWorkerOptions { DownloadRoot = Path.Combine(_root, "downloads"), ListenAddress = "127.0.0.1", PeerPort = 0 };
        _runtime = new EngineTorrentRuntime(Microsoft.Extensions.Options.Options.Create(_options), _services.GetRequiredService<IMeterFactory>(),
            TimeProvider.System, NullLogger<EngineTorrentRuntime>.Instance);
    }

    [Theory]
    [InlineData(Engine.Torrents.TorrentState.Downloading, true)]
    [InlineData(Engine.Torrents.TorrentState.Seeding, true)]
    [InlineData(Engine.Torrents.TorrentState.Finished, true)]
    [InlineData(Engine.Torrents.TorrentState.FetchingMetadata, true)]
    [InlineData(Engine.Torrents.TorrentState.Paused, false)]
    [InlineData(Engine.Torrents.TorrentState.Queued, false)]
    [InlineData(Engine.Torrents.TorrentState.Checking, false)]
    [InlineData(Engine.Torrents.TorrentState.Error, false)]
    public void IsTransferring_OnlyStatesThatMoveData_KeepTheirRates(Engine.Torrents.TorrentState state, bool transferring)
    {
        // A paused torrent showed the rate of its last second before the pause in Catalog's status (found end to end).
        Assert.Equal(transferring, EngineTorrentRuntime.IsTransferring(state));
    }

    [Fact]
    public async Task ToTorrentFile_ParsedAgain_KeepsInfoHashAndTrackers()
    {
        var source = Path.Combine(_root, "src", "a.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(source)!);
        await File.WriteAllBytesAsync(source, new byte[70_000], TestContext.Current.CancellationToken);
        var original = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(source, new TorrentCreatorOptions
        {
            AnnounceTiers = [["http://127.0.0.1:1/announce", "http://127.0.0.1:2/announce"], ["udp://127.0.0.1:3"]],
        }, TestContext.Current.CancellationToken));

        var rebuilt = TorrentMetainfo.Parse(EngineTorrentRuntime.ToTorrentFile(original));

        Assert.Equal(original.InfoHash, rebuilt.InfoHash);
        Assert.Equal(original.AnnounceTiers.Select(t => string.Join(' ', t)), rebuilt.AnnounceTiers.Select(t => string.Join(' ', t)));
    }

    [Fact]
    public async Task StartWithCompleteData_Seeds_StopKeepsResumeData_RemoveWithDataDeletesAll()
    {
        var ct = TestContext.Current.CancellationToken;
        await _runtime.InitializeAsync(ct);
        Assert.Null(_runtime.HealthProblem);
        var (hash, metainfo) = await TestTorrents.CreateAsync(Path.Combine(_root, "src"), "movie.bin");
        var folder = _options.GetTorrentFolder(hash);
        Directory.CreateDirectory(folder);
        File.Copy(Path.Combine(_root, "src", "movie.bin"), Path.Combine(folder, "movie.bin"));

        await _runtime.StartAsync(new TorrentStartRequest(hash, metainfo, null, folder, false, TorrentPriority.Normal, []), ct);
        await WaitForAsync(() => _runtime.GetSnapshot(hash)?.State == TorrentState.Seeding);
        var snapshot = _runtime.GetSnapshot(hash)!;
        Assert.Equal(1.0, snapshot.Progress);
        Assert.Equal("movie.bin", Assert.Single(snapshot.Files).Path);

        await _runtime.StopAsync(hash, ct);
        Assert.Null(_runtime.GetSnapshot(hash));
        var resumeFile = Path.Combine(_options.GetResumeRoot(), hash + ".resume");
        Assert.True(File.Exists(resumeFile), "stopping must leave resume data for the next owner");

        var removed = await _runtime.RemoveAsync(hash, folder, deleteData: true, ct);
        Assert.True(removed);
        Assert.False(Directory.Exists(folder));
        Assert.False(File.Exists(resumeFile));
    }

    [Fact]
    public async Task Expand_OnePerFileOrEmpty_MapsToTheEngineScale()
    {
        var folder = Path.Combine(_root, "multi");
        Directory.CreateDirectory(folder);
        await File.WriteAllBytesAsync(Path.Combine(folder, "a.bin"), new byte[30_000], TestContext.Current.CancellationToken);
        await File.WriteAllBytesAsync(Path.Combine(folder, "b.bin"), new byte[30_000], TestContext.Current.CancellationToken);
        var metainfo = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(folder, cancellationToken: TestContext.Current.CancellationToken));

        Assert.Equal([Engine.Storage.FilePriority.Skip, Engine.Storage.FilePriority.High],
            EngineTorrentRuntime.Expand(metainfo, [FilePriority.Skip, FilePriority.High]));
        Assert.Equal([Engine.Storage.FilePriority.Normal, Engine.Storage.FilePriority.Normal], EngineTorrentRuntime.Expand(metainfo, []));
    }

    [Fact]
    public async Task Start_MetainfoOfAnotherTorrent_Throws()
    {
        var ct = TestContext.Current.CancellationToken;
        await _runtime.InitializeAsync(ct);
        var (_, metainfo) = await TestTorrents.CreateAsync(Path.Combine(_root, "src"), "x.bin");
        var other = TestTorrents.Hash(1);

        await Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await _runtime.StartAsync(new TorrentStartRequest(other, metainfo, null, _options.GetTorrentFolder(other), false, TorrentPriority.Normal, []), ct));
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
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
