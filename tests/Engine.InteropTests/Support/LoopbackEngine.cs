using System.Net;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.InteropTests.Support;

/// <summary>Shared setup of the interop tests: our engine on 127.0.0.1, and a multi-file payload with its torrent made by mktorrent.</summary>
public static class LoopbackEngine
{
    /// <summary>How long a transfer with a real client may take.</summary>
    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(120);

    public static IPEndPoint Loopback(int port) => new(IPAddress.Loopback, port);

    /// <summary>A started engine listening on 127.0.0.1 at a free port (resume data under <paramref name="dir"/> when given).</summary>
    public static async Task<ClientEngine> StartAsync(CancellationToken ct, TempDirectory? dir = null)
    {
        var engine = new ClientEngine(new EngineOptions
        {
            ListenEndPoint = Loopback(0),
            DownloadDirectory = dir?.Combine("downloads") ?? new EngineOptions().DownloadDirectory,
            ResumeDirectory = dir?.Combine("resume"),
        });
        await engine.StartAsync(ct);
        return engine;
    }

    /// <summary><see cref="TestPayload.ManyOddFiles"/> under dir/seed (35 files) and a plain v1 torrent of it (pieces of 2^<paramref name="pieceExponent"/> bytes).</summary>
    public static async Task<(TestPayload Payload, string Torrent)> ThirtyFiveFileTorrentAsync(TempDirectory dir, int seed, long totalBytes,
        int pieceExponent, CancellationToken ct)
    {
        var payload = TestPayload.ManyOddFiles(dir.CreateSubdirectory("seed"), seed, 35, totalBytes);
        var torrent = dir.Combine("t.torrent");
        await MkTorrent.CreateAsync(payload.ContentPath, torrent, [], pieceExponent, ct);
        return (payload, torrent);
    }

    /// <summary><see cref="TestPayload.MultiFileOddSizes"/> under dir/seed and a plain v1 torrent of it (pieces of 2^<paramref name="pieceExponent"/> bytes).</summary>
    public static async Task<(TestPayload Payload, string Torrent)> MultiFileTorrentAsync(TempDirectory dir, int seed, int pieceExponent, CancellationToken ct)
    {
        var payload = TestPayload.MultiFileOddSizes(dir.CreateSubdirectory("seed"), seed);
        var torrent = dir.Combine("t.torrent");
        await MkTorrent.CreateAsync(payload.ContentPath, torrent, [], pieceExponent, ct);
        return (payload, torrent);
    }
}
