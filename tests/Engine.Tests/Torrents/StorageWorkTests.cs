using System.Buffers;
using System.Collections.Concurrent;
using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Storage.Resume;
using TorrentEdge.Engine.Tests.TestSupport;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>The store work alone, on an in-memory store: each task posts its result and writes nothing else of the torrent's.</summary>
public sealed class StorageWorkTests : IDisposable
{
    private const int PieceLength = 16 * 1024;
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "te-storagework-" + Guid.NewGuid().ToString("N"));
    private readonly ConcurrentQueue<TorrentMessage> _posted = new();
    private readonly List<Task> _tasks = [];

    public void Dispose()
    {
        if (Directory.Exists(_dir)) Directory.Delete(_dir, recursive: true);
    }

    private StorageWork NewWork(Func<bool>? mayWrite = null) =>
        new(m => { _posted.Enqueue(m); return true; }, t => { lock (_tasks) _tasks.Add(t); }, mayWrite ?? (() => true), CancellationToken.None);

    private async Task DrainAsync()
    {
        for (var i = 0; i < 10; i++)
        {
            Task[] tasks;
            lock (_tasks) tasks = [.. _tasks];
            await Task.WhenAll(tasks).WaitAsync(EngineTestKit.Bound, TestContext.Current.CancellationToken);
            lock (_tasks)
                if (_tasks.Count == tasks.Length) return;
        }
    }

    private async Task<(TorrentMetainfo Meta, byte[] Data)> TorrentAsync() =>
        await EngineTestKit.SingleFileAsync(Path.Combine(_dir, "src", "f.bin"), 3 * PieceLength + 123, seed: 7, TestContext.Current.CancellationToken);

    private static ActivePiece Filled(TorrentMetainfo meta, int index, ReadOnlySpan<byte> data)
    {
        var length = meta.GetPieceLength(index);
        var piece = new ActivePiece(index, length, PieceLength);
        Assert.True(piece.TryCopy(0, new ReadOnlySequence<byte>(data.Slice(index * PieceLength, length).ToArray())));
        piece.Seal();
        return piece;
    }

    [Fact]
    public async Task HashAndWrite_GoodAndBadPiece_PostsVerdictsAndWritesOnlyTheGoodOne()
    {
        var (meta, data) = await TorrentAsync();
        var store = new InMemoryPieceStore(StorageLayout.FromMetainfo(meta));
        var work = NewWork();
        var bad = (byte[])data.Clone();
        bad[PieceLength + 5] ^= 0xFF;

        work.HashAndWrite(store, Filled(meta, 0, data), 0, []);
        work.HashAndWrite(store, Filled(meta, 1, bad), PieceLength, []);
        await DrainAsync();

        var verdicts = _posted.OfType<PieceHashedMessage>().OrderBy(m => m.Index).ToArray();
        Assert.Equal(2, verdicts.Length);
        Assert.True(verdicts[0].Passed);
        Assert.False(verdicts[1].Passed);
        Assert.Null(verdicts[0].WriteError);
        Assert.True(store.Contents[..PieceLength].SequenceEqual(data.AsSpan(0, PieceLength)));
        Assert.True(store.Contents.Slice(PieceLength, PieceLength).IndexOfAnyExcept((byte)0) < 0);
    }

    [Fact]
    public async Task StartCheck_PreloadedStoreNoResumeData_PostsEveryPieceHad()
    {
        var (meta, data) = await TorrentAsync();
        var stores = new InMemoryPieceStoreFactory();
        stores.Get(meta, _dir).Preload(data);
        var work = NewWork();

        work.StartCheck(new CheckRequest(meta, null, [FilePriority.Normal], stores, null, 1, meta.InfoHash.ToHex(), _dir, null, false));
        await DrainAsync();

        var done = Assert.Single(_posted.OfType<CheckDoneMessage>());
        Assert.Null(done.Error);
        Assert.False(done.FromResume);
        Assert.True(done.Have.AllTrue);
        Assert.NotNull(done.Storage);
    }

    [Fact]
    public async Task RecheckPiece_ChangedBytes_PostsFailed()
    {
        var (meta, data) = await TorrentAsync();
        var store = new InMemoryPieceStore(StorageLayout.FromMetainfo(meta));
        var changed = (byte[])data.Clone();
        changed[2 * PieceLength] ^= 1;
        store.Preload(changed);
        var work = NewWork();

        work.RecheckPiece(store, 1);
        work.RecheckPiece(store, 2);
        await DrainAsync();

        var verdicts = _posted.OfType<PieceRecheckedMessage>().OrderBy(m => m.Index).ToArray();
        Assert.Equal([true, false], verdicts.Select(v => v.Passed));
    }

    [Fact]
    public async Task ResumeWrites_SaveThenDelete_RunInOrder_AndNotWhenFenced()
    {
        var (meta, data) = await TorrentAsync();
        var store = new InMemoryPieceStore(StorageLayout.FromMetainfo(meta));
        store.Preload(data);
        var resumes = new ResumeDataStore(Path.Combine(_dir, "resume"));
        var hex = meta.InfoHash.ToHex();
        var have = new BitField(meta.PieceCount);
        have.SetAll(true);
        var snapshot = new ResumeSnapshot(hex, have, [FilePriority.Normal], _dir, 1, 2, false, default, null, DateTimeOffset.UnixEpoch, TimeSpan.Zero);
        var ct = TestContext.Current.CancellationToken;

        var work = NewWork();
        work.SaveResume(resumes, store, snapshot);
        work.DeleteResume(resumes, hex);
        await DrainAsync();
        Assert.Null((await resumes.LoadAsync(hex, ct)).Data);

        work.SaveResume(resumes, store, snapshot);
        await DrainAsync();
        Assert.Equal(2, (await resumes.LoadAsync(hex, ct)).Data?.Uploaded);

        var fenced = NewWork(mayWrite: () => false);
        fenced.DeleteResume(resumes, hex);
        await DrainAsync();
        Assert.NotNull((await resumes.LoadAsync(hex, ct)).Data);
    }

    [Fact]
    public void VerifiedSinceSave_PiecesFoundBeyondTheSave_CountTheirBytes()
    {
        var meta = TorrentMetainfo.Parse(Metainfo.TestTorrents.Torrent(Metainfo.TestTorrents.SingleFileInfo(length: 2 * PieceLength + 10, pieceLength: PieceLength)));
        var layout = StorageLayout.FromMetainfo(meta);
        var saved = new BitField(3);
        saved[0] = true;
        var have = new BitField(3);
        have.SetAll(true);
        Assert.Equal(PieceLength + 10, StorageWork.VerifiedSinceSave(layout, have, saved));
        Assert.Equal(0, StorageWork.VerifiedSinceSave(layout, have, new BitField(2)));
    }
}
