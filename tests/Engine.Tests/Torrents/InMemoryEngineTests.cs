using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Creation;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>
/// Engines built only from the seams in <see cref="EngineOptions"/>: pieces in memory (<see cref="InMemoryPieceStoreFactory"/>),
/// connections over an <see cref="InMemoryNetwork"/>, time from a <see cref="FakeTimeProvider"/> that nobody advances.
/// </summary>
public sealed class InMemoryEngineTests() : TempFolderTest("te-inmemory-")
{
    // Odd sizes, an empty file, pieces straddling files.
    private static readonly int[] FileSizes = [100_003, 0, 70_001, 16_384, 33_333, 1];
    private const int PieceLength = 16 * 1024;

    /// <summary>A multi-file torrent; the files exist only while its metainfo is made.</summary>
    private async Task<(TorrentMetainfo Meta, byte[] Data)> MultiFileAsync(CancellationToken ct)
    {
        var folder = Path.Combine(Root, "make", "multi");
        Directory.CreateDirectory(folder);
        var random = new Random(35);
        using var all = new MemoryStream();
        for (var i = 0; i < FileSizes.Length; i++)
        {
            var bytes = new byte[FileSizes[i]];
            random.NextBytes(bytes);
            await File.WriteAllBytesAsync(Path.Combine(folder, $"f{i:D2}.bin"), bytes, ct);
            all.Write(bytes);
        }
        var meta = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(folder, new TorrentCreatorOptions { PieceLength = PieceLength }, ct));
        Directory.Delete(Path.Combine(Root, "make"), recursive: true);
        return (meta, all.ToArray());
    }

    private static EngineOptions InMemory(InMemoryNetwork network, InMemoryPieceStoreFactory stores, TimeProvider time, string listen,
        int maxLoopQueueLength = 4096) => new()
    {
        ListenEndPoint = System.Net.IPEndPoint.Parse(listen),
        ListenerFactory = network,
        ConnectionFactory = network.From(System.Net.IPEndPoint.Parse(listen).Address),
        PieceStores = stores,
        TimeProvider = time,
        MaxLoopQueueLength = maxLoopQueueLength,
        DownloadDirectory = "/nonexistent-in-memory",
    };

    [Theory]
    [InlineData(4096)]
    [InlineData(2)]
    public async Task Download_TwoEnginesInMemoryOnAFakeClock_MultiFileTorrentByteForByte(int maxLoopQueueLength)
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, data) = await MultiFileAsync(ct);
        var network = new InMemoryNetwork();
        var stores = new InMemoryPieceStoreFactory();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 0, 0, 0, TimeSpan.Zero));
        var seedPath = Path.Combine(Root, "seed");
        var leechPath = Path.Combine(Root, "leech");
        stores.Get(meta, seedPath).Preload(data);

        await using var seeder = new ClientEngine(InMemory(network, stores, time, "10.200.0.1:6881", maxLoopQueueLength));
        await using var leecher = new ClientEngine(InMemory(network, stores, time, "10.200.0.2:6881", maxLoopQueueLength));
        await seeder.StartAsync(ct);
        await leecher.StartAsync(ct);
        var s = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = seedPath }, ct);
        await EngineTestKit.WaitForAsync(s, x => x.State == TorrentState.Seeding, ct);
        var t = await leecher.AddAsync(meta, new AddTorrentOptions { SavePath = leechPath, Peers = [seeder.ListenEndPoint!] }, ct);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);

        Assert.Equal(data, stores.Get(meta, leechPath).Contents.ToArray());
        Assert.Equal(meta.PieceCount, t.Status.PiecesHave);
        // Nothing touched the disk: neither save path was created.
        Assert.False(Directory.Exists(seedPath));
        Assert.False(Directory.Exists(leechPath));
        // The queue's bound held: its capacity, plus one item per connection, plus the loop's own few messages.
        Assert.True(t.LoopQueueHighWater <= maxLoopQueueLength + 1 + 8, $"high water {t.LoopQueueHighWater}");
    }

    [Fact]
    public async Task Tick_NinetySecondsWithoutSendingOnTheEngineClock_KeepAliveSent()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var (meta, _) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "seed", "f.bin"), 64 * 1024, 9, ct);
        await using var engine = EngineTestKit.NewEngine(o => o with { TimeProvider = time });
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "seed") }, ct);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
        await using var peer = await ScriptedPeer.ConnectAsync(t, meta.InfoHash, ReservedBits.None, ct);
        Assert.Equal(MessageId.Bitfield, (await peer.ReadFrameAsync(ct))?.Id);

        // 89 s of silence on the engine clock: no keep-alive yet, so the next frame is the unchoke our interest earns.
        time.Advance(TimeSpan.FromSeconds(89));
        await peer.SendAsync(PeerMessage.Interested, ct);
        Assert.Equal(MessageId.Unchoke, (await peer.ReadFrameAsync(ct))?.Id);

        // 91 s after that unchoke (the last thing sent), the tick sends a keep-alive.
        time.Advance(TimeSpan.FromSeconds(91));
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(EngineTestKit.Bound);
        Assert.Null(await peer.ReadFrameAsync(bounded.Token));
    }

    [Fact]
    public async Task Tick_PrioritiesChangedOnTheEngineClock_ResumeSavedOnceTheIntervalPassed()
    {
        var ct = TestContext.Current.CancellationToken;
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var resume = Path.Combine(Root, "resume");
        var (meta, _) = await EngineTestKit.SingleFileAsync(Path.Combine(Root, "seed", "f.bin"), 64 * 1024, 10, ct);
        await using var engine = EngineTestKit.NewEngine(o => o with { TimeProvider = time, ResumeDirectory = resume, ResumeSaveInterval = TimeSpan.FromSeconds(30) });
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "seed") }, ct);
        await EngineTestKit.WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
        var store = new TorrentEdge.Engine.Storage.Resume.ResumeDataStore(resume);
        await WaitForPriorityAsync(store, meta, FilePriority.Normal, ct);

        await t.SetFilePrioritiesAsync([FilePriority.High], ct);
        time.Advance(TimeSpan.FromSeconds(31));
        await WaitForPriorityAsync(store, meta, FilePriority.High, ct);
    }

    private static async Task WaitForPriorityAsync(TorrentEdge.Engine.Storage.Resume.ResumeDataStore store, TorrentMetainfo meta, FilePriority expected, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + EngineTestKit.Bound;
        while (true)
        {
            var loaded = await store.LoadAsync(meta.InfoHash.ToHex(), ct);
            if (loaded.Data?.Files is { Count: > 0 } f && f[0].Priority == expected) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"resume data never had {expected}");
            await Task.Delay(20, ct);
        }
    }
}
