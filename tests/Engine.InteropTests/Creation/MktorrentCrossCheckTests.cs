using System.Diagnostics;
using TorrentEdge.Engine.Creation;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.InteropTests.Creation;

/// <summary>Our creator and Debian's mktorrent must produce the same info-hash for the same content.</summary>
public sealed class MktorrentCrossCheckTests : IDisposable
{
    private const string Mktorrent = "/usr/bin/mktorrent";
    private readonly string _dir = Directory.CreateTempSubdirectory("te-mktorrent-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static async Task<byte[]> RunMktorrentAsync(string target, string output, bool isPrivate)
    {
        if (!File.Exists(Mktorrent)) Assert.Skip("mktorrent is not installed (Debian package mktorrent).");
        var psi = new ProcessStartInfo(Mktorrent) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-l", "15", "-a", "http://x/announce", "-t", "1", "-o", output }) psi.ArgumentList.Add(a);
        if (isPrivate) psi.ArgumentList.Add("-p");
        psi.ArgumentList.Add(target);
        using var p = Process.Start(psi)!;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            var stderr = p.StandardError.ReadToEndAsync(cts.Token);
            await p.StandardOutput.ReadToEndAsync(cts.Token);
            await p.WaitForExitAsync(cts.Token);
            Assert.True(p.ExitCode == 0, await stderr);
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }

        return await File.ReadAllBytesAsync(output, TestContext.Current.CancellationToken);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task CreateAsync_Folder_SameInfoHashAsMktorrent(bool isPrivate)
    {
        var content = Path.Combine(_dir, "Some Album");
        Directory.CreateDirectory(Path.Combine(content, "Disc 1"));
        Directory.CreateDirectory(Path.Combine(content, "disc-2"));
        var rng = new Random(42);
        foreach (var (rel, size) in new[] { ("Disc 1/01 track.flac", 70_001), ("Disc 1/02.flac", 32_768), ("disc-2/x.bin", 5), ("cover.jpg", 12_345), ("Zed.txt", 0), ("a-b.txt", 99) })
        {
            var data = new byte[size];
            rng.NextBytes(data);
            await File.WriteAllBytesAsync(Path.Combine(content, rel), data, TestContext.Current.CancellationToken);
        }

        var theirs = TorrentMetainfo.Parse(await RunMktorrentAsync(content, Path.Combine(_dir, "theirs.torrent"), isPrivate));
        var ours = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(content, new TorrentCreatorOptions
        {
            PieceLength = 1 << 15,
            AnnounceTiers = [["http://x/announce"]],
            IsPrivate = isPrivate,
        }, TestContext.Current.CancellationToken));

        Assert.Equal(theirs.Files.Select(f => f.Path), ours.Files.Select(f => f.Path));
        Assert.Equal(theirs.InfoHash, ours.InfoHash);
    }

    [Fact]
    public async Task CreateAsync_SingleFile_SameInfoHashAsMktorrent()
    {
        var file = Path.Combine(_dir, "single.iso");
        var data = new byte[200_000];
        new Random(7).NextBytes(data);
        await File.WriteAllBytesAsync(file, data, TestContext.Current.CancellationToken);

        var theirs = TorrentMetainfo.Parse(await RunMktorrentAsync(file, Path.Combine(_dir, "theirs.torrent"), false));
        var ours = TorrentMetainfo.Parse(await TorrentCreator.CreateAsync(file, new TorrentCreatorOptions { PieceLength = 1 << 15 }, TestContext.Current.CancellationToken));
        Assert.Equal(theirs.InfoHash, ours.InfoHash);
    }
}
