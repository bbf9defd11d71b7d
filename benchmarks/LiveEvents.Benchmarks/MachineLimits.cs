using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace TorrentEdge.LiveEvents.Benchmarks;

/// <summary>
/// The machine's own limits, printed at the top of a report so its figures can be read against them: cores, load,
/// memory, one core's SHA-1 rate (the figure docs/FACTS compare hosts by), loopback TCP and the disk's fsync wait (what
/// each journal write of PeerWorker's outbox costs).
/// </summary>
public static class MachineLimits
{
    public static async Task PrintAsync()
    {
        var load = File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, load average {load} (1/5/15 min), memory {MemInfo("MemTotal")} MiB " +
            $"({MemInfo("MemAvailable")} MiB available)");
        Console.WriteLine($"  SHA-1 on one core {Sha1MiBs():N0} MiB/s; loopback TCP {await LoopbackMiBsAsync():N0} MiB/s (one stream); " +
            $"fsync of a 4 KiB write {FsyncMs():0.00} ms (median of 20, in {Path.GetTempPath()})");
        if (File.Exists("/proc/loadavg") && double.TryParse(load.Split(' ')[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var one)
            && one > Environment.ProcessorCount)
        {
            Console.WriteLine($"  the machine is shared: a load average of {one:0} on {Environment.ProcessorCount} cores; rates below are lower bounds, CPU per event is the steadier figure");
        }
    }

    private static long MemInfo(string key)
    {
        var line = File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith(key + ":", StringComparison.Ordinal)) : null;
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    private static double Sha1MiBs()
    {
        var buffer = new byte[1 << 20];
        Random.Shared.NextBytes(buffer);
        var hash = new byte[20];
        var clock = Stopwatch.StartNew();
        var mebibytes = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(1))
        {
            SHA1.HashData(buffer, hash);
            mebibytes++;
        }
        return mebibytes / clock.Elapsed.TotalSeconds;
    }

    private static async Task<double> LoopbackMiBsAsync()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, ((IPEndPoint)listener.LocalEndpoint).Port);
        using var server = await listener.AcceptTcpClientAsync();
        var reader = Task.Run(async () =>
        {
            var buffer = new byte[1 << 16];
            long total = 0;
            var stream = server.GetStream();
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                total += read;
            }
            return total;
        });
        var chunk = new byte[1 << 16];
        var clock = Stopwatch.StartNew();
        var output = client.GetStream();
        while (clock.Elapsed < TimeSpan.FromSeconds(1))
        {
            await output.WriteAsync(chunk);
        }
        client.Client.Shutdown(SocketShutdown.Send);
        var bytes = await reader;
        return bytes / 1048576.0 / clock.Elapsed.TotalSeconds;
    }

    private static double FsyncMs()
    {
        var path = Path.Combine(Path.GetTempPath(), "liveevents-fsync-" + Guid.NewGuid().ToString("N"));
        try
        {
            using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.None);
            var block = new byte[4096];
            var waits = new List<double>();
            for (var i = 0; i < 20; i++)
            {
                var clock = Stopwatch.StartNew();
                file.Write(block);
                file.Flush(flushToDisk: true);
                waits.Add(clock.Elapsed.TotalMilliseconds);
            }
            waits.Sort();
            return waits[waits.Count / 2];
        }
        finally
        {
            File.Delete(path);
        }
    }
}
