using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Bencoding;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Creation;
using TorrentEdge.Engine.Magnet;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>Two engines joined by in-memory connections: the torrent loop end to end without sockets.</summary>
public sealed class TorrentLoopTests() : TempFolderTest("te-loop-")
{
    private async Task<(TorrentMetainfo Meta, string SeedDir, Dictionary<string, byte[]> Files)> MakeTorrentAsync(int seed, CancellationToken ct, int pieceLength = 16 * 1024)
    {
        var seedDir = Path.Combine(Root, "seed" + seed);
        var content = Path.Combine(seedDir, "content");
        Directory.CreateDirectory(Path.Combine(content, "sub"));
        var random = new Random(seed);
        var files = new Dictionary<string, byte[]>
        {
            ["content/one.bin"] = new byte[100_003],
            ["content/sub/two.bin"] = new byte[33_333],
            ["content/three.bin"] = new byte[7],
        };
        foreach (var (path, bytes) in files)
        {
            random.NextBytes(bytes);
            await File.WriteAllBytesAsync(Path.Combine(seedDir, path), bytes, ct);
        }
        var torrent = await TorrentCreator.CreateAsync(content, new TorrentCreatorOptions { PieceLength = pieceLength }, ct);
        return (TorrentMetainfo.Parse(torrent), seedDir, files);
    }

    private static ClientEngine NewEngine(string? resume = null, int maxActive = 3) => EngineTestKit.NewEngine(resume, maxActive);

    private static Task ConnectAsync(ClientEngine from, TorrentManager torrent, ClientEngine to)
    {
        _ = from;
        return EngineTestKit.ConnectAsync(torrent, to);
    }

    private static Task WaitForAsync(TorrentManager t, Func<TorrentStatus, bool> condition, CancellationToken ct) =>
        EngineTestKit.WaitForAsync(t, condition, ct);

    private static void AssertFiles(string dir, Dictionary<string, byte[]> files)
    {
        foreach (var (path, bytes) in files)
            Assert.Equal(bytes, File.ReadAllBytes(Path.Combine(dir, path)));
    }

    [Fact]
    public async Task Download_FromSeederEngineOverInMemoryPair_CompletesByteForByte()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, seedDir, files) = await MakeTorrentAsync(1, ct);
        await using var seeder = NewEngine();
        await using var leecher = NewEngine();
        var s = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = seedDir }, ct);
        await WaitForAsync(s, x => x.State == TorrentState.Seeding, ct);
        var target = Path.Combine(Root, "leech");
        var t = await leecher.AddAsync(meta, new AddTorrentOptions { SavePath = target }, ct);
        await WaitForAsync(t, x => x.State == TorrentState.Downloading, ct);

        await ConnectAsync(leecher, t, seeder);
        await WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);

        AssertFiles(target, files);
        Assert.Equal(1.0, t.Status.Progress);
        Assert.Equal(meta.TotalLength, t.Status.Downloaded);
        var events = new List<TorrentEvent>();
        while (leecher.Events.TryRead(out var e)) events.Add(e);
        Assert.Contains(events, e => e is TorrentCompletedEvent c && c.TotalBytes == meta.TotalLength);
        Assert.Contains(events, e => e is TorrentStateChangedEvent { To: TorrentState.Seeding });
    }

    [Fact]
    public async Task Downloaded_FilesWrittenAfterTheLastResumeSave_CountsThePiecesTheRecheckFinds()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, seedDir, files) = await MakeTorrentAsync(17, ct);
        var resume = Path.Combine(Root, "resume");
        var target = Path.Combine(Root, "leech");
        await using (var seeder = NewEngine())
        await using (var leecher = NewEngine(resume))
        {
            var s = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = seedDir }, ct);
            await WaitForAsync(s, x => x.State == TorrentState.Seeding, ct);
            var t = await leecher.AddAsync(meta, new AddTorrentOptions { SavePath = target }, ct);
            await WaitForAsync(t, x => x.State == TorrentState.Downloading, ct);
            await ConnectAsync(leecher, t, seeder);
            await WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
            await leecher.StopAsync(meta.InfoHash, ct);
        }
        // As a kill -9 leaves it: the last save listed the first pieces and counted their bytes; the owner wrote the rest
        // after it (the files' write times moved on), counting them only in memory.
        var store = new TorrentEdge.Engine.Storage.Resume.ResumeDataStore(resume);
        var saved = (await store.LoadAsync(meta.InfoHash.ToHex(), ct)).Data!;
        var listed = new BitField(meta.PieceCount);
        for (var i = 0; i < meta.PieceCount / 2; i++) listed[i] = true;
        var listedBytes = (long)(meta.PieceCount / 2) * meta.PieceLength;
        await store.SaveAsync(saved with { Bitfield = listed.Bytes.ToArray(), Downloaded = listedBytes, CompletedAt = null }, ct);
        foreach (var path in files.Keys) File.SetLastWriteTimeUtc(Path.Combine(target, path), DateTime.UtcNow.AddSeconds(5));

        // The next owner rechecks, finds every piece, fetches nothing, and its counter holds everything that came off the wire.
        await using var next = NewEngine(resume);
        var again = await next.AddAsync(meta, new AddTorrentOptions { SavePath = target }, ct);
        await WaitForAsync(again, x => x.State == TorrentState.Seeding, ct);

        AssertFiles(target, files);
        Assert.Equal(meta.TotalLength, again.Status.Downloaded);
    }

    [Fact]
    public async Task Magnet_MetadataFromSeederEngine_DownloadsEverything()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, seedDir, files) = await MakeTorrentAsync(2, ct);
        await using var seeder = NewEngine();
        await using var leecher = NewEngine();
        var s = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = seedDir }, ct);
        await WaitForAsync(s, x => x.State == TorrentState.Seeding, ct);
        var target = Path.Combine(Root, "leech");
        var t = await leecher.AddMagnetAsync(new MagnetLink(meta.InfoHash), new AddTorrentOptions { SavePath = target }, ct);
        await WaitForAsync(t, x => x.State == TorrentState.FetchingMetadata, ct);

        await ConnectAsync(leecher, t, seeder);
        await WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);

        Assert.Equal(meta.InfoBytes.ToArray(), t.Metainfo!.InfoBytes.ToArray());
        AssertFiles(target, files);
    }

    [Fact]
    public async Task Queue_MaxOneActive_SecondWaitsUntilFirstIsRemoved()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta1, _, _) = await MakeTorrentAsync(3, ct);
        var (meta2, _, _) = await MakeTorrentAsync(4, ct);
        await using var engine = NewEngine(maxActive: 1);
        var first = await engine.AddAsync(meta1, new AddTorrentOptions { SavePath = Path.Combine(Root, "q1") }, ct);
        var second = await engine.AddAsync(meta2, new AddTorrentOptions { SavePath = Path.Combine(Root, "q2") }, ct);
        await WaitForAsync(first, x => x.State == TorrentState.Downloading, ct);
        await Task.Delay(200, ct);
        Assert.Equal(TorrentState.Queued, second.State);

        await engine.RemoveAsync(meta1.InfoHash, deleteData: true, ct);

        await WaitForAsync(second, x => x.State == TorrentState.Downloading, ct);
        Assert.Null(engine.Find(meta1.InfoHash));
    }

    [Fact]
    public async Task Resume_AddedPaused_GetsAQueueSlotAndDownloads()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, _, _) = await MakeTorrentAsync(30, ct);
        await using var engine = NewEngine();
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "paused"), Paused = true }, ct);
        await WaitForAsync(t, x => x.State == TorrentState.Paused, ct);

        await engine.ResumeAsync(meta.InfoHash, ct);

        await WaitForAsync(t, x => x.State == TorrentState.Downloading, ct);
    }

    [Fact]
    public async Task Pause_ActiveDownloadWithMaxOneActive_LetsTheQueuedOneStart()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta1, _, _) = await MakeTorrentAsync(31, ct);
        var (meta2, _, _) = await MakeTorrentAsync(32, ct);
        await using var engine = NewEngine(maxActive: 1);
        var first = await engine.AddAsync(meta1, new AddTorrentOptions { SavePath = Path.Combine(Root, "p1") }, ct);
        var second = await engine.AddAsync(meta2, new AddTorrentOptions { SavePath = Path.Combine(Root, "p2") }, ct);
        await WaitForAsync(first, x => x.State == TorrentState.Downloading, ct);
        Assert.Equal(TorrentState.Queued, second.State);

        await engine.PauseAsync(meta1.InfoHash, ct);

        await WaitForAsync(second, x => x.State == TorrentState.Downloading, ct);
        Assert.Equal(TorrentState.Paused, first.State);
    }

    [Fact]
    public async Task PauseResume_Seeder_StopsAndRestartsAndKeepsPieces()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, seedDir, _) = await MakeTorrentAsync(5, ct);
        await using var engine = NewEngine(resume: Path.Combine(Root, "resume"));
        var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = seedDir }, ct);
        await WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);

        await t.PauseAsync(ct);
        Assert.Equal(TorrentState.Paused, t.State);
        await t.ResumeAsync(ct);

        await WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
        Assert.Equal(meta.PieceCount, t.Status.PiecesHave);
    }

    [Fact]
    public async Task Stop_DuringARequestedRecheck_KeepsNoResumeDataSoTheNextStartChecksAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        var content = Path.Combine(Root, "big");
        Directory.CreateDirectory(content);
        var bytes = new byte[96 << 20]; // large enough that one hashing thread is still busy when Stop arrives
        new Random(40).NextBytes(bytes);
        await File.WriteAllBytesAsync(Path.Combine(content, "data.bin"), bytes, ct);
        var meta = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(Path.Combine(content, "data.bin"), new TorrentCreatorOptions { PieceLength = 1 << 20 }, ct));
        var resume = Path.Combine(Root, "resume");
        var store = new TorrentEdge.Engine.Storage.Resume.ResumeDataStore(resume);

        await using (var engine = EngineTestKit.NewEngine(o => o with { ResumeDirectory = resume, RecheckParallelism = 1 }))
        {
            var t = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = content }, ct);
            await WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
            var deadline = DateTime.UtcNow.AddSeconds(10); // the save after the first check runs off the loop
            while ((await store.LoadAsync(meta.InfoHash.ToHex(), ct)).Data is null && DateTime.UtcNow < deadline) await Task.Delay(20, ct);
            Assert.NotNull((await store.LoadAsync(meta.InfoHash.ToHex(), ct)).Data);

            await t.RecheckAsync(ct);
            await WaitForAsync(t, x => x.State == TorrentState.Checking, ct);
            await engine.StopAsync(meta.InfoHash, ct);
        }

        // The user asked to distrust what the resume data says; an interrupted recheck must not leave it
        // to be trusted at the next start (nor save the have-set of a check that did not finish).
        Assert.Null((await store.LoadAsync(meta.InfoHash.ToHex(), ct)).Data);
        await using var again = EngineTestKit.NewEngine(o => o with { ResumeDirectory = resume });
        var resumed = await again.AddAsync(meta, new AddTorrentOptions { SavePath = content }, ct);
        await WaitForAsync(resumed, x => x.State == TorrentState.Seeding, ct);
    }

    [Fact]
    public async Task Stop_Seeder_LeavesEngineKeepsFilesAndResumesWithoutRecheck()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, seedDir, files) = await MakeTorrentAsync(9, ct);
        var resume = Path.Combine(Root, "resume");
        await using var engine = NewEngine(resume);
        var s = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = seedDir }, ct);
        await WaitForAsync(s, x => x.State == TorrentState.Seeding, ct);

        await engine.StopAsync(meta.InfoHash, ct);

        Assert.Null(engine.Find(meta.InfoHash));
        AssertFiles(seedDir, files);
        var saved = await new TorrentEdge.Engine.Storage.Resume.ResumeDataStore(resume).LoadAsync(meta.InfoHash.ToHex(), ct);
        Assert.NotNull(saved.Data);
        Assert.Equal(meta.PieceCount, saved.Data!.GetBitField()?.TrueCount);
        var events = new List<TorrentEvent>();
        while (engine.Events.TryRead(out var e)) events.Add(e);
        Assert.Contains(events, e => e is TorrentRemovedEvent { DataDeleted: false });

        var again = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = seedDir }, ct);
        await WaitForAsync(again, x => x.State == TorrentState.Seeding, ct);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Download_WithRateLimit_TakesAtLeastTheLimitedTime(bool uploadLimitOnSeederEngine)
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, seedDir, files) = await MakeTorrentAsync(uploadLimitOnSeederEngine ? 10 : 11, ct);
        const long limit = 40_000;
        await using var seeder = EngineTestKit.NewEngine(o => o with { UploadRateLimit = uploadLimitOnSeederEngine ? limit : 0 });
        await using var leecher = NewEngine();
        var s = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = seedDir }, ct);
        await WaitForAsync(s, x => x.State == TorrentState.Seeding, ct);
        var target = Path.Combine(Root, "leech");
        var t = await leecher.AddAsync(meta, new AddTorrentOptions { SavePath = target, DownloadRateLimit = uploadLimitOnSeederEngine ? 0 : limit }, ct);
        await WaitForAsync(t, x => x.State == TorrentState.Downloading, ct);

        var started = System.Diagnostics.Stopwatch.StartNew();
        await ConnectAsync(leecher, t, seeder);
        await WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);

        // At most one second of burst passes at once; the rest flows at the limit.
        var floor = TimeSpan.FromSeconds((meta.TotalLength - limit - 16 * 1024) / (double)limit);
        Assert.True(started.Elapsed >= floor * 0.9, $"{meta.TotalLength} bytes in {started.Elapsed}, limit {limit} B/s");
        AssertFiles(target, files);
    }

    [Fact]
    public async Task SeedRatioLimit_SeederUploadedWholeTorrent_FinishesAndStopsSeeding()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, seedDir, files) = await MakeTorrentAsync(12, ct);
        await using var seeder = EngineTestKit.NewEngine(o => o with { SeedRatioLimit = 1.0 });
        await using var leecher = NewEngine();
        var s = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = seedDir }, ct);
        await WaitForAsync(s, x => x.State == TorrentState.Seeding, ct);
        var target = Path.Combine(Root, "leech");
        var t = await leecher.AddAsync(meta, new AddTorrentOptions { SavePath = target }, ct);
        await WaitForAsync(t, x => x.State == TorrentState.Downloading, ct);

        await ConnectAsync(leecher, t, seeder);
        await WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
        await WaitForAsync(s, x => x.State == TorrentState.Finished && x.Peers == 0, ct);

        Assert.True(s.Status.Uploaded >= meta.TotalLength);
        AssertFiles(target, files);
    }

    [Fact]
    public async Task SeedTimeLimit_PerTorrent_FinishesAfterTheLimitWhileOthersSeedOn()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, seedDir, _) = await MakeTorrentAsync(13, ct);
        var (other, otherDir, _) = await MakeTorrentAsync(14, ct);
        await using var engine = NewEngine();
        var limited = await engine.AddAsync(meta, new AddTorrentOptions { SavePath = seedDir, SeedTimeLimit = TimeSpan.FromSeconds(2) }, ct);
        var unlimited = await engine.AddAsync(other, new AddTorrentOptions { SavePath = otherDir }, ct);
        await WaitForAsync(limited, x => x.State == TorrentState.Seeding, ct);

        await WaitForAsync(limited, x => x.State == TorrentState.Finished, ct);

        Assert.Equal(TorrentState.Seeding, unlimited.Status.State);
        var events = new List<TorrentEvent>();
        while (engine.Events.TryRead(out var e)) events.Add(e);
        Assert.Contains(events, e => e is QueueChangedEvent q && !q.Active.Contains(meta.InfoHash) && q.Active.Contains(other.InfoHash));
    }

    [Fact]
    public async Task SeedTime_PersistedInResumeData_LimitCountsTimeSeededBeforeTheRestart()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, seedDir, _) = await MakeTorrentAsync(15, ct);
        var resume = Path.Combine(Root, "resume");
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using (var first = EngineTestKit.NewEngine(resume, time: time))
        {
            var t = await first.AddAsync(meta, new AddTorrentOptions { SavePath = seedDir }, ct);
            await WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
            for (var i = 0; i < 40 && t.Status.SeedingTime < TimeSpan.FromSeconds(4); i++)
            {
                time.Advance(TimeSpan.FromSeconds(1));
                await Task.Delay(50, ct);
            }
            Assert.True(t.Status.SeedingTime >= TimeSpan.FromSeconds(4), t.Status.ToString());
            await first.StopAsync(meta.InfoHash, ct);
        }
        var saved = await new TorrentEdge.Engine.Storage.Resume.ResumeDataStore(resume).LoadAsync(meta.InfoHash.ToHex(), ct);
        Assert.True(saved.Data!.SeedingTime >= TimeSpan.FromSeconds(4), saved.Data.SeedingTime.ToString());

        // After the restart a 5 s limit is reached within 3 more ticks (2 s counted): only with the 4 s carried over.
        var time2 = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var second = EngineTestKit.NewEngine(resume, time: time2);
        var again = await second.AddAsync(meta, new AddTorrentOptions { SavePath = seedDir, SeedTimeLimit = TimeSpan.FromSeconds(5) }, ct);
        await WaitForAsync(again, x => x.State is TorrentState.Seeding or TorrentState.Finished, ct);
        Assert.True(again.Status.SeedingTime >= TimeSpan.FromSeconds(4), again.Status.ToString());
        for (var i = 0; i < 3; i++)
        {
            time2.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(100, ct);
        }
        await WaitForAsync(again, x => x.State == TorrentState.Finished, ct);
        Assert.True(again.Status.SeedingTime < TimeSpan.FromSeconds(8), again.Status.ToString());
    }

    [Fact]
    public async Task SeedRatio_UploadedBeforeTheRestart_LimitReachedAfterItWithoutUploadingAgain()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, seedDir, files) = await MakeTorrentAsync(16, ct);
        var resume = Path.Combine(Root, "resume");
        await using (var seeder = NewEngine(resume))
        await using (var leecher = NewEngine())
        {
            var s = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = seedDir }, ct);
            await WaitForAsync(s, x => x.State == TorrentState.Seeding, ct);
            var t = await leecher.AddAsync(meta, new AddTorrentOptions { SavePath = Path.Combine(Root, "leech") }, ct);
            await WaitForAsync(t, x => x.State == TorrentState.Downloading, ct);
            await ConnectAsync(leecher, t, seeder);
            await WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
            await WaitForAsync(s, x => x.Uploaded >= meta.TotalLength, ct);
            await seeder.StopAsync(meta.InfoHash, ct);
        }

        // A fresh engine with a ratio limit of 1: the bytes uploaded before count, so it finishes with no peer at all.
        await using var again = EngineTestKit.NewEngine(o => o with { ResumeDirectory = resume, SeedRatioLimit = 1.0 });
        var restarted = await again.AddAsync(meta, new AddTorrentOptions { SavePath = seedDir }, ct);

        await WaitForAsync(restarted, x => x.State == TorrentState.Finished, ct);
        Assert.True(restarted.Status.Uploaded >= meta.TotalLength, restarted.Status.ToString());
        Assert.Equal(0, restarted.Status.Peers);
        AssertFiles(seedDir, files);
    }

    [Fact]
    public async Task Remove_WithData_DeletesDownloadedFiles()
    {
        var ct = TestContext.Current.CancellationToken;
        var (meta, seedDir, files) = await MakeTorrentAsync(6, ct);
        await using var seeder = NewEngine();
        await using var leecher = NewEngine();
        var s = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = seedDir }, ct);
        await WaitForAsync(s, x => x.State == TorrentState.Seeding, ct);
        var target = Path.Combine(Root, "leech");
        var t = await leecher.AddAsync(meta, new AddTorrentOptions { SavePath = target }, ct);
        await WaitForAsync(t, x => x.State == TorrentState.Downloading, ct);
        await ConnectAsync(leecher, t, seeder);
        await WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);
        AssertFiles(target, files);

        await leecher.RemoveAsync(meta.InfoHash, deleteData: true, ct);

        Assert.All(files.Keys, p => Assert.False(File.Exists(Path.Combine(target, p)), p));
    }

    [Fact]
    public async Task FilePriorities_SkippedFile_IsNotCreatedAndTorrentFinishes()
    {
        var ct = TestContext.Current.CancellationToken;
        // One piece per file boundary region is shared, so use a piece length that keeps "three.bin" inside the last piece only.
        var (meta, seedDir, files) = await MakeTorrentAsync(7, ct);
        await using var seeder = NewEngine();
        await using var leecher = NewEngine();
        var s = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = seedDir }, ct);
        await WaitForAsync(s, x => x.State == TorrentState.Seeding, ct);
        var priorities = meta.Files.Select(f => f.Path.EndsWith("one.bin", StringComparison.Ordinal) ? FilePriority.Skip : FilePriority.Normal).ToArray();
        var target = Path.Combine(Root, "leech");
        var t = await leecher.AddAsync(meta, new AddTorrentOptions { SavePath = target, FilePriorities = priorities }, ct);
        await WaitForAsync(t, x => x.State == TorrentState.Downloading, ct);
        await ConnectAsync(leecher, t, seeder);

        await WaitForAsync(t, x => x.State == TorrentState.Finished, ct);

        Assert.False(File.Exists(Path.Combine(target, "content/one.bin")));
        Assert.Equal(files["content/sub/two.bin"], File.ReadAllBytes(Path.Combine(target, "content/sub/two.bin")));
        Assert.True(t.Status.BytesWanted < meta.TotalLength);
    }

    [Fact]
    public async Task Download_HybridTorrentWithPaddingFiles_CreatesNoPadFile()
    {
        var ct = TestContext.Current.CancellationToken;
        const int pieceLength = 16 * 1024;
        var a = new byte[20_000];
        var b = new byte[10_000];
        new Random(7).NextBytes(a);
        new Random(8).NextBytes(b);
        var padLength = 2 * pieceLength - a.Length;
        var content = new byte[a.Length + padLength + b.Length];
        a.CopyTo(content, 0);
        b.CopyTo(content, a.Length + padLength);
        var hashes = new byte[(content.Length + pieceLength - 1) / pieceLength * 20];
        for (var p = 0; p * pieceLength < content.Length; p++)
        {
            var length = Math.Min(pieceLength, content.Length - p * pieceLength);
            System.Security.Cryptography.SHA1.HashData(content.AsSpan(p * pieceLength, length), hashes.AsSpan(p * 20));
        }
        static BDictionary FileEntry(long length, params string[] path)
            => new() { { "length", new BInteger(length) }, { "path", new BList(path.Select(x => (BValue)new BString(x))) } };
        var pad = FileEntry(padLength, ".pad", padLength.ToString(System.Globalization.CultureInfo.InvariantCulture));
        pad.Add("attr", new BString("p"));
        var info = new BDictionary
        {
            { "name", new BString("padded") },
            { "piece length", new BInteger(pieceLength) },
            { "pieces", new BString(hashes) },
            { "files", new BList([FileEntry(a.Length, "a.bin"), pad, FileEntry(b.Length, "b.bin")]) },
        };
        var meta = TorrentMetainfo.Parse(new BDictionary { { "info", info } }.Encode());
        Assert.Contains(meta.Files, f => f.IsPadding);

        var seedDir = Path.Combine(Root, "seed");
        Directory.CreateDirectory(Path.Combine(seedDir, "padded"));
        await File.WriteAllBytesAsync(Path.Combine(seedDir, "padded", "a.bin"), a, ct);
        await File.WriteAllBytesAsync(Path.Combine(seedDir, "padded", "b.bin"), b, ct);
        await using var seeder = NewEngine();
        await using var leecher = NewEngine();
        var s = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = seedDir }, ct);
        await WaitForAsync(s, x => x.State == TorrentState.Seeding, ct);
        var target = Path.Combine(Root, "leech");
        var t = await leecher.AddAsync(meta, new AddTorrentOptions { SavePath = target }, ct);
        await WaitForAsync(t, x => x.State == TorrentState.Downloading, ct);

        await ConnectAsync(leecher, t, seeder);
        await WaitForAsync(t, x => x.State == TorrentState.Seeding, ct);

        Assert.Equal(a, File.ReadAllBytes(Path.Combine(target, "padded", "a.bin")));
        Assert.Equal(b, File.ReadAllBytes(Path.Combine(target, "padded", "b.bin")));
        Assert.False(Directory.Exists(Path.Combine(target, "padded", ".pad")));
        Assert.False(Directory.Exists(Path.Combine(seedDir, "padded", ".pad")));
    }
}
