using System.Text.Json;
using System.Text.RegularExpressions;
using TorrentEdge.Engine.Cli;
using TorrentEdge.Engine.Creation;
using TorrentEdge.Engine.InteropTests.Support;

namespace TorrentEdge.Engine.InteropTests.Cli;

/// <summary>The benchmark's command-line modes (verify, seed-many, loadgen), run in-process; functional checks only.</summary>
public sealed partial class CliCommandTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static async Task<string> CreateTorrentAsync(string content, string torrentPath, int pieceLength, CancellationToken ct)
    {
        var bytes = await TorrentCreator.CreateAsync(content, new TorrentCreatorOptions { PieceLength = pieceLength }, ct);
        await File.WriteAllBytesAsync(torrentPath, bytes, ct);
        return torrentPath;
    }

    [Fact]
    public async Task Verify_IntactData_ReportsAllPiecesOkAndExitsZero()
    {
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory("te-cli");
        var payload = TestPayload.MultiFileOddSizes(dir.CreateSubdirectory("data"));
        var torrent = await CreateTorrentAsync(payload.ContentPath, dir.Combine("p.torrent"), 32 * 1024, ct);
        var output = new StringWriter();

        var code = await CliApp.RunAsync(["verify", torrent, payload.Root, "--threads", "2", "--json"], output, TextWriter.Null);

        Assert.Equal(0, code);
        var json = JsonDocument.Parse(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Last()).RootElement;
        var pieces = json.GetProperty("pieces").GetInt32();
        Assert.True(pieces > 40);
        Assert.Equal(pieces, json.GetProperty("pieces_ok").GetInt32());
        Assert.Equal(0, json.GetProperty("pieces_bad").GetInt32());
        Assert.Equal(2, json.GetProperty("threads").GetInt32());
    }

    [Fact]
    public async Task Verify_OneByteCorrupted_ReportsOneBadPieceAndExitsNonZero()
    {
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory("te-cli");
        var payload = TestPayload.MultiFileOddSizes(dir.CreateSubdirectory("data"));
        var torrent = await CreateTorrentAsync(payload.ContentPath, dir.Combine("p.torrent"), 32 * 1024, ct);
        var victim = Path.Combine(payload.ContentPath, "a.bin");
        await using (var fs = new FileStream(victim, FileMode.Open, FileAccess.ReadWrite))
        {
            fs.Position = 500_000;
            var b = fs.ReadByte();
            fs.Position = 500_000;
            fs.WriteByte((byte)(b ^ 0xFF));
        }
        var output = new StringWriter();

        var code = await CliApp.RunAsync(["verify", torrent, payload.Root, "--threads", "1"], output, TextWriter.Null);

        Assert.Equal(4, code); // VerifyCommand.Incomplete
        Assert.Matches(@"pieces ok=\d+ bad=1 of \d+", output.ToString());
    }

    [Fact]
    public async Task SeedManyAndLoadGen_TwoTorrents_SeedBothAndAcceptEveryConnection()
    {
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory("te-cli");
        var root = dir.CreateSubdirectory("data");
        var torrents = dir.CreateSubdirectory("torrents");
        TestPayload.SingleFile(root, "one.bin", 100_000, seed: 1);
        TestPayload.SingleFile(root, "two.bin", 70_000, seed: 2);
        await CreateTorrentAsync(Path.Combine(root, "one.bin"), Path.Combine(torrents, "one.torrent"), 16 * 1024, ct);
        var two = await CreateTorrentAsync(Path.Combine(root, "two.bin"), Path.Combine(torrents, "two.torrent"), 16 * 1024, ct);
        var seederOut = new StringWriter();
        var seederLines = TextWriter.Synchronized(seederOut);
        var seeder = CliApp.RunAsync(["seed-many", torrents, root, "--bind", "127.0.0.1", "--duration", "8", "--quiet",
            "--resume", dir.Combine("resume")], seederLines, TextWriter.Null);
        try
        {
            string text = "";
            var deadline = DateTime.UtcNow + Bound;
            while (!text.Contains("\"command\":\"seed-many\"", StringComparison.Ordinal) && DateTime.UtcNow < deadline && !seeder.IsCompleted)
            {
                await Task.Delay(50, ct);
                lock (seederOut) text = seederOut.ToString();
            }
            var started = JsonDocument.Parse(text.Split('\n').First(l => l.Contains("\"seed-many\"", StringComparison.Ordinal))).RootElement;
            Assert.Equal(2, started.GetProperty("seeding").GetInt32());
            Assert.Equal(0, started.GetProperty("errors").GetInt32());
            var port = ListeningPort().Match(text).Groups[1].Value;

            var loadOut = new StringWriter();
            var code = await CliApp.RunAsync(["loadgen", "127.0.0.1:" + port, two, "--connections", "20", "--concurrency", "5",
                "--hold", "0.5", "--json"], loadOut, TextWriter.Null).WaitAsync(Bound, ct);

            var result = JsonDocument.Parse(loadOut.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Last()).RootElement;
            Assert.Equal(20, result.GetProperty("handshakes").GetInt32());
            Assert.Equal(0, result.GetProperty("errors").GetInt32());
            Assert.Equal(0, result.GetProperty("dropped").GetInt32());
            Assert.Equal(0, code);
        }
        finally
        {
            // seed-many ends by itself after --duration; bounded wait so a hang fails the test rather than the run.
            await seeder.WaitAsync(TimeSpan.FromSeconds(40), CancellationToken.None);
        }
    }

    [GeneratedRegex(@"^listening \S*:(\d+)\r?$", RegexOptions.Multiline)]
    private static partial Regex ListeningPort();
}
