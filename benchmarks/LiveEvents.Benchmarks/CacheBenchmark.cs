using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using StackExchange.Redis;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.Model;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.LiveEvents.Benchmarks;

/// <summary>
/// Would Redis as a cache pay for torrent lists? One user's page of torrents read from Catalog's SQLite store (as
/// <c>GET /api/torrents</c> does) against the same page read back from a real redis-server (GET and parse), and how
/// often progress events would invalidate that cached page.
/// </summary>
public static class CacheBenchmark
{
    public static async Task<int> RunAsync(int torrents, int pageSize)
    {
        var directory = Path.Combine(Path.GetTempPath(), "liveevents-cache-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var port = FreePort();
        using var redis = Process.Start(new ProcessStartInfo("redis-server", ["--port", port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        try
        {
            var store = new SqliteCatalogStore($"Data Source={Path.Combine(directory, "catalog.db")}");
            await store.InitializeAsync(CancellationToken.None);
            var now = DateTimeOffset.UtcNow;
            for (var i = 0; i < torrents; i++)
            {
                await store.TryInsertTorrentAsync(Torrent(i, now), CancellationToken.None);
            }
            var query = new TorrentQuery("alice", null, TorrentSort.Added, true, 0, pageSize);

            var fromStore = await TimeAsync(async () => (await store.ListTorrentsAsync(query, CancellationToken.None)).Items.Count);
            var page = await store.ListTorrentsAsync(query, CancellationToken.None);
            var json = JsonSerializer.Serialize(page);

            await using var connection = await ConnectAsync(port);
            var db = connection.GetDatabase();
            await db.StringSetAsync("torrents:alice:added:desc:0", json);
            var fromRedis = await TimeAsync(async () =>
            {
                string? cached = await db.StringGetAsync("torrents:alice:added:desc:0");
                return JsonSerializer.Deserialize<TorrentPage>(cached!)!.Items.Count;
            });
            var invalidate = await TimeAsync(async () => await db.KeyDeleteAsync("torrents:alice:none") ? 1 : 0);
            var statusWrite = await TimeAsync(async () => await store.UpdateStatusAsync(Hash(0), new TorrentStatus { State = TorrentState.Downloading, Progress = 0.5 }, CancellationToken.None) ? 1 : 0);

            Console.WriteLine($"cache: one user's page of {pageSize} of {torrents:N0} torrents ({json.Length / 1024.0:N0} KiB as JSON), medians of 200 reads after 20 unmeasured");
            Console.WriteLine($"  from Catalog's SQLite store (ListTorrentsAsync): p50 {fromStore.P50:0.000} ms, p99 {fromStore.P99:0.000} ms");
            Console.WriteLine($"  from redis-server (GET + parse into the same objects): p50 {fromRedis.P50:0.000} ms, p99 {fromRedis.P99:0.000} ms");
            Console.WriteLine($"  invalidating (DEL) p50 {invalidate.P50:0.000} ms; a status write of one torrent (what each progress event costs Catalog) p50 {statusWrite.P50:0.000} ms");
            Console.WriteLine($"  a downloading torrent reports progress each second, so a user's cached pages live at most 1 s while any of their torrents moves");
            return 0;
        }
        finally
        {
            redis.Kill();
            redis.WaitForExit(5000);
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(directory, recursive: true);
        }
    }

    private static CatalogTorrent Torrent(int i, DateTimeOffset now) => new()
    {
        InfoHash = Hash(i),
        Name = $"Some.Linux.Distribution.{i}.x86_64.iso",
        TotalBytes = 4L << 30,
        MagnetUri = $"magnet:?xt=urn:btih:{Hash(i)}",
        Files = [.. Enumerable.Range(0, 3).Select(f => new TorrentFileEntry($"folder/file-{f}.bin", 1L << 30))],
        Trackers = ["http://tracker.example:6969/announce"],
        Owners = [new TorrentOwner("alice", now)],
        AddedAt = now.AddSeconds(i),
        Revision = 1,
        PublishedRevision = 1,
        Status = new TorrentStatus { State = TorrentState.Downloading, Progress = i % 100 / 100.0, DownloadRate = 1_000_000, PeersConnected = 5, PeersTotal = 40 },
    };

    private static string Hash(int i) => i.ToString("x40", CultureInfo.InvariantCulture);

    private static async Task<(double P50, double P99)> TimeAsync(Func<Task<int>> read)
    {
        for (var i = 0; i < 20; i++)
        {
            await read();
        }
        var samples = new List<double>(200);
        for (var i = 0; i < 200; i++)
        {
            var clock = Stopwatch.StartNew();
            await read();
            samples.Add(clock.Elapsed.TotalMilliseconds);
        }
        samples.Sort();
        return (samples[100], samples[197]);
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync(int port)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await ConnectionMultiplexer.ConnectAsync($"127.0.0.1:{port}");
            }
            catch (RedisConnectionException) when (clock.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(200);
            }
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
