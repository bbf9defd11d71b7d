using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.LiveEvents.Benchmarks;

/// <summary>
/// Fan-out through the Gateway: the Release builds of Notifier and Gateway as processes (Development, no token checks:
/// the user is named in the connection), the embedded Kafka in this process, <c>clients</c> connections of one user on
/// one transport (socket.io-client in one node process, or SignalR here), and <c>events</c> torrent:added events
/// published to Kafka at a steady pace; each delivery's latency from the publish, the deliveries a second, and the
/// Notifier's CPU time and peak memory.
/// </summary>
public static class FanOut
{
    public static async Task<int> RunAsync(int clients, int events, string transport, int rate)
    {
        var root = FindRoot();
        using var kafka = EmbeddedKafka.Start();
        kafka.CreateTopic(Topics.TorrentEvents, 2);
        var notifierPort = FreePort();
        var gatewayPort = FreePort();
        using var notifier = StartService(Path.Combine(root, "src/Notifier/bin/Release/net10.0/TorrentEdge.Notifier.dll"), notifierPort, new()
        {
            ["ConnectionStrings__kafka"] = kafka.BootstrapServers,
            // Every connection is the same user's; the hub's per-user limit (20) would refuse the 21st with 429.
            ["Notifier__MaxConnectionsPerUser"] = (clients + 10).ToString(CultureInfo.InvariantCulture),
        });
        using var gateway = StartService(Path.Combine(root, "src/Gateway/bin/Release/net10.0/TorrentEdge.Gateway.dll"), gatewayPort, new()
        {
            ["services__notifier__http__0"] = $"http://127.0.0.1:{notifierPort}",
            ["Gateway__RateLimit__PermitLimit"] = "100000000",
        });
        try
        {
            await WaitHealthyAsync(notifierPort);
            await WaitHealthyAsync(gatewayPort);
            var gatewayUrl = new Uri($"http://127.0.0.1:{gatewayPort}");

            var builder = Host.CreateApplicationBuilder();
            builder.Logging.SetMinimumLevel(LogLevel.Warning);
            builder.Configuration["ConnectionStrings:kafka"] = kafka.BootstrapServers;
            builder.AddKafkaMessaging(_ => { });
            using var host = builder.Build();
            await host.StartAsync();
            var publisher = host.Services.GetRequiredService<IIntegrationEventPublisher>();
            var hash = new string('a', 40);

            // The Notifier's consumer group starts at the end of the topic: wait until a probe gets through.
            var deliveries = transport == "signalr"
                ? await SignalRAsync(gatewayUrl, clients, events, publisher, hash, rate)
                : await SocketIoAsync(root, gatewayUrl, clients, events, publisher, hash, notifier, rate);
            await host.StopAsync();
            return deliveries;
        }
        finally
        {
            Stop(gateway);
            Stop(notifier);
        }
    }

    private static async Task<int> SocketIoAsync(string root, Uri gateway, int clients, int events, IIntegrationEventPublisher publisher, string hash, Process notifier, int rate)
    {
        var start = new ProcessStartInfo("node") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(root, "benchmarks/LiveEvents.Benchmarks/fanout-clients.js"), gateway.ToString(), clients.ToString(CultureInfo.InvariantCulture), "bench", (clients * events).ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(a);
        }
        using var node = Process.Start(start)!;
        var lines = new BlockingCollection<string>();
        node.OutputDataReceived += (_, e) => { if (e.Data is not null) { lines.Add(e.Data); } };
        node.BeginOutputReadLine();
        var connect = Stopwatch.StartNew();
        if (!lines.TryTake(out var ready, TimeSpan.FromMinutes(3)) || ready != "ready")
        {
            Console.WriteLine($"socket.io clients not ready: {ready}");
            return 1;
        }
        Console.WriteLine($"fan-out, socket.io over WebSocket through the Gateway: {clients:N0} clients connected and authenticated in {connect.Elapsed.TotalSeconds:0.0} s");
        var (cpu, published) = await PublishAsync(publisher, hash, events, notifier, rate);
        var line = lines.TryTake(out var summary, TimeSpan.FromMinutes(3)) ? summary : null;
        if (line is null)
        {
            node.StandardInput.Close();
            line = lines.TryTake(out summary, TimeSpan.FromSeconds(30)) ? summary : "{}";
        }
        var cpuUsed = CpuTime(notifier) - cpu;
        using var doc = JsonDocument.Parse(line);
        var r = doc.RootElement;
        var delivered = r.GetProperty("deliveries").GetInt32();
        var seconds = (r.GetProperty("last").GetInt64() - published) / 1000.0;
        Report(clients, events, rate, delivered, seconds, r.GetProperty("p50").GetDouble(), r.GetProperty("p99").GetDouble(), cpuUsed, notifier);
        node.StandardInput.Close();
        node.WaitForExit(5000);
        return delivered == clients * events ? 0 : 1;
    }

    private static async Task<int> SignalRAsync(Uri gateway, int clients, int events, IIntegrationEventPublisher publisher, string hash, int rate)
    {
        var latencies = new ConcurrentBag<long>();
        var connections = new List<HubConnection>();
        long last = 0;
        var connect = Stopwatch.StartNew();
        for (var i = 0; i < clients; i++)
        {
            var connection = new HubConnectionBuilder()
                .WithUrl(new Uri(gateway, "/hubs/torrents?user=bench"), o => { o.Transports = HttpTransportType.WebSockets; o.SkipNegotiation = true; })
                .Build();
            connection.On<JsonElement>("torrent:added", data =>
            {
                var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
                latencies.Add(now - long.Parse(data.GetProperty("name").GetString()!, CultureInfo.InvariantCulture));
                Interlocked.Exchange(ref last, now);
            });
            await connection.StartAsync();
            connections.Add(connection);
        }
        Console.WriteLine($"fan-out, SignalR over WebSocket through the Gateway: {clients:N0} clients connected in {connect.Elapsed.TotalSeconds:0.0} s (clients in the benchmark process)");
        var notifier = Process.GetProcessById(_notifierPid);
        var (cpu, published) = await PublishAsync(publisher, hash, events, notifier, rate);
        var clock = Stopwatch.StartNew();
        while (latencies.Count < clients * events && clock.Elapsed < TimeSpan.FromMinutes(3))
        {
            await Task.Delay(20);
        }
        var cpuUsed = CpuTime(notifier) - cpu;
        var sorted = latencies.Order().ToList();
        Report(clients, events, rate, sorted.Count, (Interlocked.Read(ref last) - published) / 1000.0,
            sorted[sorted.Count / 2], sorted[Math.Min(sorted.Count - 1, (int)(sorted.Count * 0.99))], cpuUsed, notifier);
        foreach (var c in connections)
        {
            await c.DisposeAsync();
        }
        return sorted.Count == clients * events ? 0 : 1;
    }

    /// <summary>Publishes <paramref name="events"/> at <paramref name="rate"/> a second after a probe got through; returns the Notifier's CPU time before, and when publishing began.</summary>
    private static async Task<(TimeSpan Cpu, long PublishedAtMs)> PublishAsync(IIntegrationEventPublisher publisher, string hash, int events, Process notifier, int rate)
    {
        // The first events may precede the consumer group's first assignment: give it time, untimed.
        await Task.Delay(TimeSpan.FromSeconds(8));
        var cpu = CpuTime(notifier);
        var started = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var pace = Stopwatch.StartNew();
        for (var i = 0; i < events; i++)
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            await publisher.PublishAsync(Topics.TorrentEvents, hash, new TorrentAdded(hash, ["bench"], now.ToString(CultureInfo.InvariantCulture), 1, "bench"));
            var due = TimeSpan.FromMilliseconds(1000.0 / rate * (i + 1));
            if (due > pace.Elapsed)
            {
                await Task.Delay(due - pace.Elapsed);
            }
        }
        return (cpu, started);
    }

    private static void Report(int clients, int events, int rate, int delivered, double seconds, double p50, double p99, TimeSpan cpu, Process notifier)
    {
        notifier.Refresh();
        Console.WriteLine($"  {events} events published at {rate}/s to {clients:N0} clients: {delivered:N0} of {clients * events:N0} deliveries in {seconds:0.00} s " +
            $"= {delivered / seconds:N0} deliveries/s; latency (publish to Kafka -> client callback) p50 {p50:N0} ms, p99 {p99:N0} ms");
        Console.WriteLine($"  Notifier: {cpu.TotalSeconds:0.00} CPU s over the run ({cpu.TotalSeconds / seconds * 100:0}% of one core), " +
            $"peak RSS {PeakRssMiB(notifier.Id):N0} MiB");
    }

    private static int _notifierPid;

    private static Process StartService(string dll, int port, Dictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(dll);
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        foreach (var (k, v) in environment)
        {
            start.Environment[k] = v;
        }
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { Console.Error.WriteLine("  [" + Path.GetFileNameWithoutExtension(dll) + "] " + e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (dll.Contains("Notifier", StringComparison.Ordinal))
        {
            _notifierPid = process.Id;
        }
        return process;
    }

    private static void Stop(Process process)
    {
        try
        {
            process.Kill();
            process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static async Task WaitHealthyAsync(int port)
    {
        using var http = new HttpClient();
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{port}/alive")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"nothing healthy on port {port}");
    }

    private static TimeSpan CpuTime(Process process)
    {
        process.Refresh();
        return process.TotalProcessorTime;
    }

    private static long PeakRssMiB(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TorrentEdge.sln")))
            {
                return dir.FullName;
            }
        }
        throw new DirectoryNotFoundException("TorrentEdge.sln");
    }
}
