using TorrentEdge.Engine.Cli;
using TorrentEdge.Engine.InteropTests.Support;

namespace TorrentEdge.Engine.InteropTests.Encryption;

/// <summary>The CLI's --encryption, in-process, against libtorrent peers with encryption forced or disabled.</summary>
public sealed class CliEncryptionTests
{
    private static readonly TimeSpan Bound = LoopbackEngine.Bound;

    [Fact]
    public async Task Download_EncryptionRequireFromForcedLibtorrent_CompletesByteForByte()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 51, 15, ct);
        await using var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions { Seed = true, TorrentPath = torrent, SavePath = payload.Root, Encryption = "forced" }, ct);
        await seeder.WaitForSeedingAsync(Bound, ct);
        var target = dir.CreateSubdirectory("leech");

        var code = await CliApp.RunAsync(["download", torrent, "--out", target, "--bind", "127.0.0.1", "--peer", seeder.Endpoint,
            "--encryption", "require", "--timeout", "60", "--quiet"], TextWriter.Null, TextWriter.Null);

        Assert.Equal(0, code);
        payload.AssertSameAs(target);
    }

    [Fact]
    public async Task Download_EncryptionRequireFromLibtorrentWithEncryptionDisabled_TimesOutWithNothing()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 52, 15, ct);
        await using var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions { Seed = true, TorrentPath = torrent, SavePath = payload.Root, Encryption = "disabled" }, ct);
        await seeder.WaitForSeedingAsync(Bound, ct);
        var target = dir.CreateSubdirectory("leech");
        var output = new StringWriter();

        var code = await CliApp.RunAsync(["download", torrent, "--out", target, "--bind", "127.0.0.1", "--peer", seeder.Endpoint,
            "--encryption", "require", "--timeout", "6"], output, TextWriter.Null);

        Assert.Equal(3, code); // timed out
        // The progress line each second: never a peer, never a byte.
        Assert.Contains("peers 0 (encrypted 0) done=0", output.ToString());
        Assert.DoesNotContain("peers 1", output.ToString());
        Assert.DoesNotContain("done=1", output.ToString());
    }

    [Fact]
    public async Task Parse_UnknownEncryptionPolicy_ExitsTwoWithTheChoices()
    {
        var error = new StringWriter();
        var code = await CliApp.RunAsync(["download", "x.torrent", "--out", "/tmp/none", "--encryption", "sometimes"], TextWriter.Null, error);
        Assert.Equal(2, code);
        Assert.Contains("--encryption takes prefer, require or disable", error.ToString());
    }
}
