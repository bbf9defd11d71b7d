using System.Globalization;

namespace TorrentEdge.AppHost;

/// <summary>The AppHost's command line.</summary>
public sealed record AppHostOptions
{
    public int GatewayPort { get; init; } = 3000;

    public string DataDir { get; init; } = "./.torrentedge";

    public int Workers { get; init; } = Topology.PeerWorker.DefaultReplicas;

    public string Environment { get; init; } = "Development";

    /// <summary>Start redis-server when installed (the default); false runs the suite without it.</summary>
    public bool Redis { get; init; } = true;

    /// <summary>Restart a service that exits unasked (the default); false leaves it stopped (tests that kill a replica on purpose).</summary>
    public bool Restart { get; init; } = true;

    /// <summary>How long each service gets to answer /health 200 after it starts.</summary>
    public TimeSpan HealthTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Build configuration whose output is launched; the AppHost's own by default.</summary>
    public string? Configuration { get; init; }

    public bool Help { get; init; }

    /// <summary>Print the topology as JSON and exit (for checking deployment manifests against it).</summary>
    public bool PrintTopology { get; init; }

    public const string Usage = """
        TorrentEdge AppHost: runs the whole suite on this machine (embedded Kafka, Redis, every service).

        Usage: dotnet run --project src/AppHost -- [options]

        Options:
          --gateway-port <port>    Port of the Gateway on 127.0.0.1 (default 3000; 0 picks a free one)
          --data-dir <path>        SQLite files, resume data and downloads (default ./.torrentedge)
          --workers <n>            PeerWorker replicas (default 2)
          --environment <name>     ASPNETCORE_ENVIRONMENT for the services (default Development)
          --no-redis               Do not start redis-server even if it is installed
          --no-restart             Do not restart a service that exits unasked (it is marked failed)
          --health-timeout <sec>   Seconds each service gets to report healthy (default 120)
          --configuration <name>   Build configuration of the services to launch (default: the AppHost's own)
          --print-topology         Print the topology (services, replicas, references, topics) as JSON and exit
          -h, --help               Show this help

        Ctrl+C or SIGTERM stops every service gracefully. The state of every resource (name, pid, url)
        is kept in <data-dir>/apphost-state.json.
        """;

    /// <summary>Parses the command line; throws <see cref="ArgumentException"/> with a readable message on a bad one.</summary>
    public static AppHostOptions Parse(IReadOnlyList<string> args)
    {
        var options = new AppHostOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? inlineValue = null;
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                inlineValue = arg[(eq + 1)..];
                arg = arg[..eq];
            }

            string Value() => inlineValue
                ?? (i + 1 < args.Count ? args[++i] : throw new ArgumentException($"Option {arg} needs a value."));

            options = arg switch
            {
                "-h" or "--help" or "-?" => options with { Help = true },
                "--gateway-port" => options with { GatewayPort = ParseInt(arg, Value(), 0, 65535) },
                "--data-dir" => options with { DataDir = NonEmpty(arg, Value()) },
                "--workers" => options with { Workers = ParseInt(arg, Value(), 0, 64) },
                "--environment" => options with { Environment = NonEmpty(arg, Value()) },
                "--no-redis" => options with { Redis = false },
                "--no-restart" => options with { Restart = false },
                "--print-topology" => options with { PrintTopology = true },
                "--health-timeout" => options with { HealthTimeout = TimeSpan.FromSeconds(ParseInt(arg, Value(), 1, 3600)) },
                "--configuration" => options with { Configuration = NonEmpty(arg, Value()) },
                _ => throw new ArgumentException($"Unknown option {arg}. See --help."),
            };
        }
        return options;
    }

    private static int ParseInt(string option, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"Option {option} takes a whole number from {min} to {max}, not '{value}'.");

    private static string NonEmpty(string option, string value) =>
        string.IsNullOrWhiteSpace(value) ? throw new ArgumentException($"Option {option} needs a value.") : value;
}
