using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using TorrentEdge.Engine.Bencoding;
using TorrentEdge.Engine.InteropTests.Support;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.InteropTests.Torrents;

/// <summary>Lying peers, crashes and hostile file names.</summary>
public sealed partial class ResilienceTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Engine_WithCorruptAndHonestSeeder_CompletesAndBansCorruptOne()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var payload = TestPayload.Create(dir.CreateSubdirectory("seed"), "payload", 31, [("a.bin", 3_000_001), ("b.bin", 1_000_003)]);
        var torrent = dir.Combine("t.torrent");
        await MkTorrent.CreateAsync(payload.ContentPath, torrent, [], 15, ct);
        var meta = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(torrent, ct));
        // The honest seeder is slowed so the liar gets to deliver several pieces.
        await using var honest = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        { Seed = true, TorrentPath = torrent, SavePath = payload.Root, UploadLimit = 1_000_000 }, ct);
        await honest.WaitForSeedingAsync(Bound, ct);
        await using var liar = new CorruptSeeder(meta.InfoHash.ToArray(), meta.PieceCount);

        await using var engine = await LoopbackEngine.StartAsync(ct);
        var target = dir.CreateSubdirectory("leech");
        var t = await engine.AddAsync(meta, new AddTorrentOptions
        {
            SavePath = target,
            Peers = [new IPEndPoint(CorruptSeeder.Address, liar.Port), new IPEndPoint(IPAddress.Loopback, honest.Port)],
        }, ct);
        await Eventually.TrueAsync(() => t.State == TorrentState.Seeding, Bound, () => $"{t.Status}\n{honest.Log}", ct);

        payload.AssertSameAs(target);
        Assert.True(liar.BlocksServed > 0, "the liar was never asked for data");
        Assert.True(t.Status.HashFailures >= 3, t.Status.ToString());
        var events = new List<TorrentEvent>();
        while (engine.Events.TryRead(out var e)) events.Add(e);
        var ban = Assert.Single(events.OfType<PeerBannedEvent>());
        Assert.Contains(liar.Port.ToString(CultureInfo.InvariantCulture), ban.Peer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cli_KilledMidDownloadThenRestarted_CompletesAndRedownloadsAtMostInFlightPieces()
    {
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        var payload = TestPayload.Create(dir.CreateSubdirectory("seed"), "payload", 41, [("a.bin", 5_000_011), ("b.bin", 3_000_017)]);
        var torrent = dir.Combine("t.torrent");
        const int pieceLog2 = 15;
        await MkTorrent.CreateAsync(payload.ContentPath, torrent, [], pieceLog2, ct);
        await using var seeder = await LibtorrentPeer.StartAsync(new LibtorrentOptions
        { Seed = true, TorrentPath = torrent, SavePath = payload.Root, UploadLimit = 2_000_000 }, ct);
        await seeder.WaitForSeedingAsync(Bound, ct);
        var target = dir.CreateSubdirectory("leech");
        string[] args = ["download", torrent, "--out", target, "--bind", "127.0.0.1", "--peer", seeder.Endpoint, "--timeout", "120"];

        long doneAtKill;
        await using (var first = EngineCli.Start(args))
        {
            var line = await first.WaitForLineAsync(l => Done(l) is > 2_000_000 and < 6_000_000, Bound, ct);
            doneAtKill = Done(line)!.Value;
            first.Kill(); // kill -9: no chance to save anything
            await first.WaitForExitAsync(TimeSpan.FromSeconds(10), ct);
        }

        await using var second = EngineCli.Start(args);
        var summary = await second.WaitForLineAsync(l => l.StartsWith("summary ", StringComparison.Ordinal), Bound, ct);
        Assert.Equal(0, await second.WaitForExitAsync(TimeSpan.FromSeconds(30), ct));

        payload.AssertSameAs(target);
        var atStart = Field(summary, "bytes_at_start");
        var fresh = Field(summary, "bytes_new");
        // Everything verified before the kill was found again on disk...
        Assert.True(atStart >= doneAtKill, $"restart found {atStart} bytes, {doneAtKill} were verified before the kill\n{second.Log}");
        // ...and only what was in flight (bounded by the request pipeline: at most 64 pieces here) came again.
        var inFlightBound = 64L << pieceLog2;
        Assert.True(fresh <= payload.TotalLength - doneAtKill + inFlightBound, summary);
        Assert.True(fresh <= payload.TotalLength - atStart, summary);
    }

    private static long? Done(string line)
    {
        var m = DoneRegex().Match(line);
        return m.Success ? long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    private static long Field(string line, string name)
    {
        var m = Regex.Match(line, name + "=(\\d+)");
        Assert.True(m.Success, line);
        return long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [GeneratedRegex("done=(\\d+)")]
    private static partial Regex DoneRegex();

    [Fact]
    public async Task Engine_TorrentWithEscapingNames_WritesNothingOutsideItsFolder()
    {
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory();
        // Hostile names: parent references, an absolute path, a NUL, a reserved name, an empty segment.
        var files = new (string[] Path, int Length)[]
        {
            (["..", "..", "escape.bin"], 40_000),
            (["/etc", "passwd-owned"], 20_001),
            (["sub", "..", "..", "x.bin"], 17_000),
            (["nul\0byte.bin"], 5_000),
            (["CON"], 3_000),
            (["", "empty-seg.bin"], 2_000),
        };
        var content = new byte[files.Sum(f => f.Length)];
        new Random(51).NextBytes(content);
        const int pieceLength = 16 * 1024;
        var pieces = new byte[(content.Length + pieceLength - 1) / pieceLength * 20];
        for (var i = 0; i * pieceLength < content.Length; i++)
            System.Security.Cryptography.SHA1.HashData(content.AsSpan(i * pieceLength, Math.Min(pieceLength, content.Length - i * pieceLength)), pieces.AsSpan(i * 20));
        var fileList = new BList();
        foreach (var (path, length) in files)
        {
            var d = new BDictionary();
            d.Add("length", new BInteger(length));
            d.Add("path", new BList(path.Select(p => (BValue)new BString(p))));
            fileList.Add(d);
        }
        var info = new BDictionary();
        info.Add("files", fileList);
        info.Add("name", new BString("../../outside"));
        info.Add("piece length", new BInteger(pieceLength));
        info.Add("pieces", new BString(pieces));
        var root = new BDictionary();
        root.Add("announce", new BString("http://127.0.0.1:1/announce"));
        root.Add("info", info);
        var meta = TorrentMetainfo.Parse(root.Encode());

        // The seeder's data, laid out as the engine lays it out (sanitised), inside its own folder.
        var seedDir = dir.CreateSubdirectory("sandbox-seed");
        long offset = 0;
        foreach (var f in meta.Files)
        {
            var path = Path.GetFullPath(Path.Combine(seedDir, f.Path));
            Assert.StartsWith(seedDir + Path.DirectorySeparatorChar, path, StringComparison.Ordinal);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, content.AsMemory((int)offset, (int)f.Length).ToArray(), ct);
            offset += f.Length;
        }
        var leechParent = dir.CreateSubdirectory("sandbox-leech");
        var leechDir = Directory.CreateDirectory(Path.Combine(leechParent, "a", "b")).FullName;
        var before = Directory.GetFileSystemEntries(dir.Path, "*", SearchOption.AllDirectories).ToHashSet();

        await using var seeder = new ClientEngine(new EngineOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        await seeder.StartAsync(ct);
        var s = await seeder.AddAsync(meta, new AddTorrentOptions { SavePath = seedDir }, ct);
        await Eventually.TrueAsync(() => s.State == TorrentState.Seeding, Bound, () => s.Status.ToString(), ct);
        await using var leecher = new ClientEngine(new EngineOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) });
        await leecher.StartAsync(ct);
        var t = await leecher.AddAsync(meta, new AddTorrentOptions { SavePath = leechDir, Peers = [seeder.ListenEndPoint!] }, ct);
        await Eventually.TrueAsync(() => t.State == TorrentState.Seeding, Bound, () => t.Status.ToString(), ct);

        var created = Directory.GetFileSystemEntries(dir.Path, "*", SearchOption.AllDirectories).Where(p => !before.Contains(p)).ToList();
        Assert.NotEmpty(created);
        Assert.All(created, p => Assert.True(p.StartsWith(leechDir + Path.DirectorySeparatorChar, StringComparison.Ordinal), $"{p} is outside {leechDir}"));
        Assert.False(File.Exists(Path.Combine(leechParent, "escape.bin")));
        Assert.False(File.Exists("/etc/passwd-owned"));
        offset = 0;
        foreach (var f in meta.Files)
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(leechDir, f.Path), ct);
            Assert.Equal(content.AsSpan((int)offset, (int)f.Length).ToArray(), bytes);
            offset += f.Length;
        }
    }
}
