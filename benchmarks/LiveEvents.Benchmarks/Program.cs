using System.Globalization;

namespace TorrentEdge.LiveEvents.Benchmarks;

/// <summary>
/// <c>kafka [events] [torrents] [partitions] [batch]</c> or <c>fanout [clients] [events] [transport] [rate]</c>; see benchmarks/README.md.
/// </summary>
public static class BenchmarkProgram
{
    public static async Task<int> Main(string[] args)
    {
        int Arg(int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;
        Console.WriteLine($"{DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, .NET {Environment.Version}");
        return args.FirstOrDefault() switch
        {
            "kafka" => await KafkaThroughput.RunAsync(Arg(1, 200_000), Arg(2, 1000), Arg(3, 4), Arg(4, 100)),
            "fanout" => await FanOut.RunAsync(Arg(1, 1000), Arg(2, 100), args.Length > 3 ? args[3] : "socketio", Arg(4, 20)),
            _ => Usage(),
        };
    }

    private static int Usage()
    {
        Console.Error.WriteLine("usage: kafka [events] [torrents] [partitions] [journal batch] | fanout [clients] [events] [socketio|signalr] [events a second]");
        return 2;
    }
}
