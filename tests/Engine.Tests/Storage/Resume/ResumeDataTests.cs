using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Storage.Resume;

namespace TorrentEdge.Engine.Tests.Storage.Resume;

public class ResumeDataTests
{
    private const string Hash = "0123456789abcdef0123456789abcdef01234567";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<(StorageTestData Data, ResumeData Resume)> DownloadedAsync()
    {
        var data = new StorageTestData(16, ("a", 20), ("dir/b", 30), ("skipped", 10));
        await using var storage = new TorrentStorage(data.Layout, data.Root);
        storage.SetSkipped(2, true);
        await storage.WriteAsync(0, data.Content.AsMemory(0, 48), Ct);
        await storage.FlushAsync(Ct);
        var have = new BitField(data.Layout.PieceCount);
        have[0] = have[1] = have[2] = true;
        return (data, ResumeData.Create(Hash, have, storage.ObserveFiles()));
    }

    [Fact]
    public async Task IsConsistentWith_FilesUntouched_Trusted()
    {
        var (data, resume) = await DownloadedAsync();
        using var _ = data;

        Assert.True(resume.IsConsistentWith(data.Layout, data.Root, out var reason), reason);
        Assert.Equal(-1, resume.Files[2].Size);
    }

    [Fact]
    public async Task IsConsistentWith_SizeMismatch_UntrustedWithReason()
    {
        var (data, resume) = await DownloadedAsync();
        using var _ = data;
        var path = Path.Combine(data.Root, "dir", "b");
        var mtime = File.GetLastWriteTimeUtc(path);
        using (var stream = File.OpenWrite(path)) stream.SetLength(29);
        File.SetLastWriteTimeUtc(path, mtime);

        Assert.False(resume.IsConsistentWith(data.Layout, data.Root, out var reason));
        Assert.Contains("29 bytes", reason);
    }

    [Fact]
    public async Task IsConsistentWith_ModifiedAfterSave_Untrusted()
    {
        var (data, resume) = await DownloadedAsync();
        using var _ = data;
        File.SetLastWriteTimeUtc(Path.Combine(data.Root, "a"), DateTime.UtcNow.AddMinutes(5));

        Assert.False(resume.IsConsistentWith(data.Layout, data.Root, out var reason));
        Assert.Contains("modified", reason);
    }

    [Fact]
    public async Task IsConsistentWith_FileDeleted_Untrusted()
    {
        var (data, resume) = await DownloadedAsync();
        using var _ = data;
        File.Delete(Path.Combine(data.Root, "a"));

        Assert.False(resume.IsConsistentWith(data.Layout, data.Root, out var reason));
        Assert.Contains("missing", reason);
    }

    [Fact]
    public async Task CheckConsistency_PieceCountDiffers_Untrusted()
    {
        var (data, resume) = await DownloadedAsync();
        using var _ = data;
        await using var storage = new TorrentStorage(data.Layout, data.Root);

        var result = (resume with { PieceCount = 3, Bitfield = [0xE0] }).CheckConsistency(storage);

        Assert.False(result.IsTrusted);
    }
}
