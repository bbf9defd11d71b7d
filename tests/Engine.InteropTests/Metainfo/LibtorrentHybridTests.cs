using System.Diagnostics;
using System.Security.Cryptography;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.InteropTests.Metainfo;

/// <summary>Hybrid v1+v2 torrents made by libtorrent 2.0 (with pad files) load through their v1 part.</summary>
public sealed class LibtorrentHybridTests : IDisposable
{
    private const string Script = """
        import sys, libtorrent as lt
        root, name, out = sys.argv[1], sys.argv[2], sys.argv[3]
        fs = lt.file_storage()
        lt.add_files(fs, root + "/" + name)
        ct = lt.create_torrent(fs, 32768)
        ct.add_tracker("http://x/announce")
        lt.set_piece_hashes(ct, root)
        data = lt.bencode(ct.generate())
        open(out, "wb").write(data)
        print(lt.torrent_info(data).info_hashes().v1)
        """;

    private readonly string _dir = Directory.CreateTempSubdirectory("te-lt-hybrid-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Parse_LibtorrentHybrid_SameV1InfoHashAndPaddingVerifies()
    {
        var ct = TestContext.Current.CancellationToken;
        var content = Path.Combine(_dir, "content");
        Directory.CreateDirectory(Path.Combine(content, "sub"));
        var a = RandomNumberGenerator.GetBytes(70_001);
        var b = RandomNumberGenerator.GetBytes(5_000);
        await File.WriteAllBytesAsync(Path.Combine(content, "a.bin"), a, ct);
        await File.WriteAllBytesAsync(Path.Combine(content, "sub", "b.bin"), b, ct);

        var output = Path.Combine(_dir, "lt.torrent");
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "-c", Script, _dir, "content", output }) psi.ArgumentList.Add(arg);
        if (!File.Exists(psi.FileName)) Assert.Skip("/usr/bin/python3 is not installed.");
        using var p = Process.Start(psi)!;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        string stdout, stderr;
        try
        {
            var errTask = p.StandardError.ReadToEndAsync(timeout.Token);
            stdout = await p.StandardOutput.ReadToEndAsync(timeout.Token);
            stderr = await errTask;
            await p.WaitForExitAsync(timeout.Token);
        }
        finally
        {
            if (!p.HasExited) p.Kill();
        }

        if (p.ExitCode != 0 && stderr.Contains("No module named 'libtorrent'")) Assert.Skip("python3-libtorrent is not installed.");
        Assert.True(p.ExitCode == 0, stderr);

        var m = TorrentMetainfo.Parse(await File.ReadAllBytesAsync(output, ct));
        Assert.Equal(stdout.Trim(), m.InfoHash.ToHex());
        Assert.True(m.IsHybrid);
        Assert.Equal([false, true, false, true], m.Files.Select(f => f.IsPadding));
        Assert.Equal(["content/a.bin", "content/sub/b.bin"], m.Files.Where(f => !f.IsPadding).Select(f => f.Path));

        // The v1 byte stream: file data with zeros for pad files.
        var stream = new byte[m.TotalLength];
        a.CopyTo(stream, m.Files[0].Offset);
        b.CopyTo(stream, m.Files[2].Offset);
        for (var i = 0; i < m.PieceCount; i++)
        {
            Assert.Equal(SHA1.HashData(stream.AsSpan(i * m.PieceLength, m.GetPieceLength(i))), m.GetPieceHash(i).ToArray());
        }
    }
}
