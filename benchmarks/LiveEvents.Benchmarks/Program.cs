using System.Globalization;

namespace TorrentEdge.LiveEvents.Benchmarks;

/// <summary>
/// <c>all [clients] [events] [rate]</c> (issue 20's figures in one run), <c>kafka [events] [torrents] [partitions] [batch]</c> or <c>fanout [clients] [events] [transport] [rate]</c>, <c>cache [torrents] [page size]</c>, <c>dispatch [iterations]</c> (the bridge's costs per message, without Kafka); see benchmarks/README.md.
/// </summary>
public static class BenchmarkProgram
{
    public static async Task<int> Main(string[] args)
    {
        int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;
        Console.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        await MachineLimits.PrintAsync();
        return args.FirstOrDefault() switch
        {
            "kafka" => await KafkaThroughput.RunAsync(Arg(1, 40_000), Arg(2, 1000), Arg(3, 8), Arg(4, 512)),
            "all" => await AllAsync(Arg(1, 1000), Arg(2, 100), Arg(3, 50)),
            "cache" => await CacheBenchmark.RunAsync(Arg(1, 1000), Arg(2, 50)),
            "dispatch" => await DispatchCost.RunAsync(Arg(1, 200_000)),
            "fanout" => await FanOut.RunAsync(Arg(1, 1000), Arg(2, 100), args.Length > 3 ? args[3] : "socketio", Arg(4, 20)),
            _ => Usage(),
        };
    }

    /// <summary>Issue 20's figures in one run: Kafka through the outbox and the bridge, then fan-out on each transport.</summary>
    private static async Task<int> AllAsync(int clients, int events, int rate)
    {
        Console.WriteLine();
        // 512 a journal write: what the translator hands over at most, and what it has ready when events come faster than fsyncs.
        var failed = await KafkaThroughput.RunAsync(40_000, 1000, 8, 512);
        foreach (var transport in new[] { "socketio", "signalr" })
        {
            Console.WriteLine();
            failed |= await FanOut.RunAsync(clients, events, transport, rate);
        }
        return failed;
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: all [clients] [events] [events a second] | kafka [events] [torrents] [partitions] [journal batch] | fanout [clients] [events] [socketio|signalr] [events a second] | cache [torrents] [page size] | dispatch [iterations]");
        return 2;
    }
}
