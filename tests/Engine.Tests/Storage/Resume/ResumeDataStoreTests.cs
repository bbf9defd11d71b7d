using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Queueing;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Storage.Resume;

namespace TorrentEdge.Engine.Tests.Storage.Resume;

public sealed class ResumeDataStoreTests : IDisposable
{
    private const string Hash = "0123456789abcdef0123456789abcdef01234567";
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "te-resume-" + Guid.NewGuid().ToString("N"));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (DirectoryNotFoundException) { }
    }

    private static ResumeData Sample()
    {
        var have = new BitField(11);
        have[0] = true;
        have[10] = true;
        var observed = new[]
        {
            new FileObservation(true, 100, new DateTime(2026, 11, 23, 10, 0, 0, DateTimeKind.Utc).AddTicks(1234567)),
            FileObservation.Missing,
        };
        return ResumeData.Create(Hash.ToUpperInvariant(), have, observed, [FilePriority.High, FilePriority.Skip]) with
        {
            Downloaded = 1_000_000_000_000,
            Uploaded = 42,
            SeedingTime = TimeSpan.FromMinutes(90),
            AddedAt = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero),
            CompletedAt = new DateTimeOffset(2026, 11, 2, 0, 0, 0, TimeSpan.Zero),
            Paused = true,
            QueuePriority = QueuePriority.High,
            SavePath = "/data/x",
        };
    }

    [Fact]
    public async Task SaveAsync_ThenLoad_RoundTripsEveryField()
    {
        var store = new ResumeDataStore(_dir);
        var saved = Sample();

        await store.SaveAsync(saved, Ct);
        var loaded = await store.LoadAsync(Hash, Ct);

        Assert.Null(loaded.Error);
        var data = Assert.IsType<ResumeData>(loaded.Data);
        Assert.Equal(Hash, data.InfoHash);
        Assert.Equal(ResumeData.CurrentVersion, data.Version);
        Assert.Equal(saved.Bitfield, data.Bitfield);
        Assert.Equal(saved.Files, data.Files);
        Assert.Equal(saved with { Bitfield = data.Bitfield, Files = data.Files }, data);
        Assert.True(data.GetBitField()![10]);
        Assert.Equal([Hash], store.ListInfoHashes());
    }

    [Fact]
    public async Task SaveAsync_Twice_LastOneWinsAndNoTempFilesRemain()
    {
        var store = new ResumeDataStore(_dir);
        await store.SaveAsync(Sample(), Ct);

        await store.SaveAsync(Sample() with { Uploaded = 7 }, Ct);

        Assert.Equal(7, (await store.LoadAsync(Hash, Ct)).Data!.Uploaded);
        Assert.Single(Directory.GetFiles(_dir));
    }

    [Fact]
    public async Task LoadAsync_Missing_ReturnsNullWithoutError()
    {
        var result = await new ResumeDataStore(_dir).LoadAsync(Hash, Ct);

        Assert.Null(result.Data);
        Assert.Null(result.Error);
    }

    [Fact]
    public async Task LoadAsync_TruncatedFile_ReturnsNullWithReason()
    {
        var store = new ResumeDataStore(_dir);
        await store.SaveAsync(Sample(), Ct);
        var path = store.GetPath(Hash);
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);

        var result = await store.LoadAsync(Hash, Ct);

        Assert.Null(result.Data);
        Assert.Contains("Corrupt", result.Error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("{}")]
    [InlineData("\0\0\0\0")]
    [InlineData("{\"version\":99,\"infoHash\":\"0123456789abcdef0123456789abcdef01234567\",\"pieceCount\":1,\"bitfield\":\"gA==\",\"files\":[]}")]
    [InlineData("{\"version\":1,\"infoHash\":\"0123456789abcdef0123456789abcdef01234567\",\"pieceCount\":9,\"bitfield\":\"gA==\",\"files\":[]}")]
    [InlineData("{\"version\":1,\"infoHash\":\"ffffffffffffffffffffffffffffffffffffffff\",\"pieceCount\":1,\"bitfield\":\"gA==\",\"files\":[]}")]
    [InlineData("{\"version\":1,\"infoHash\":\"0123456789abcdef0123456789abcdef01234567\",\"pieceCount\":1,\"bitfield\":\"gA==\",\"files\":[null]}")]
    public async Task LoadAsync_BadContent_ReturnsNullWithReasonNeverThrows(string content)
    {
        Directory.CreateDirectory(_dir);
        var store = new ResumeDataStore(_dir);
        File.WriteAllText(store.GetPath(Hash), content);

        var result = await store.LoadAsync(Hash, Ct);

        Assert.Null(result.Data);
        Assert.False(string.IsNullOrEmpty(result.Error));
    }

    [Fact]
    public async Task LoadAsync_MinimalValidDocument_Loads()
    {
        Directory.CreateDirectory(_dir);
        var store = new ResumeDataStore(_dir);
        File.WriteAllText(store.GetPath(Hash),
            "{\"version\":1,\"infoHash\":\"0123456789abcdef0123456789abcdef01234567\",\"pieceCount\":1,\"bitfield\":\"gA==\",\"files\":[]}");

        var result = await store.LoadAsync(Hash, Ct);

        Assert.True(result.Data!.GetBitField()![0]);
    }

    [Fact]
    public async Task LoadAsync_TempFileLeftByCrash_IsIgnoredAndCleanable()
    {
        var store = new ResumeDataStore(_dir);
        await store.SaveAsync(Sample() with { Uploaded = 1 }, Ct);
        var leftover = store.GetPath(Hash) + ".5f3a.tmp";
        File.WriteAllText(leftover, "{\"version\":1,\"infoH");

        var result = await store.LoadAsync(Hash, Ct);

        Assert.Equal(1, result.Data!.Uploaded);
        Assert.Equal([Hash], store.ListInfoHashes());
        Assert.Equal(1, store.DeleteLeftoverTemporaryFiles());
        Assert.False(File.Exists(leftover));
        Assert.True(File.Exists(store.GetPath(Hash)));
    }

    [Fact]
    public async Task LoadAsync_NotAnInfoHash_ReturnsError()
    {
        var result = await new ResumeDataStore(_dir).LoadAsync("../../etc/passwd", Ct);

        Assert.Null(result.Data);
        Assert.NotNull(result.Error);
    }

    [Fact]
    public async Task Delete_Saved_RemovesIt()
    {
        var store = new ResumeDataStore(_dir);
        await store.SaveAsync(Sample(), Ct);

        store.Delete(Hash);

        Assert.Empty(store.ListInfoHashes());
    }

    [Fact]
    public void Delete_DirectoryMissing_DoesNotThrow()
    {
        var store = new ResumeDataStore(Path.Combine(_dir, "none"));

        store.Delete(Hash);

        Assert.Empty(store.ListInfoHashes());
        Assert.Equal(0, store.DeleteLeftoverTemporaryFiles());
    }
}
