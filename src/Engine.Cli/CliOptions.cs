using System.Globalization;
using System.Net;

namespace TorrentEdge.Engine.Cli;

/// <summary>Parsed command line (a small hand parser: no dependency for a handful of flags).</summary>
public sealed class CliOptions
{
    public string Command { get; private set; } = "";
    public List<string> Positional { get; } = [];
    public string? Out { get; private set; }
    public int? Port { get; private set; }
    public IPAddress? Bind { get; private set; }
    public List<IPEndPoint> Peers { get; } = [];
    public List<string> Trackers { get; } = [];
    public string? Resume { get; private set; }
    public bool SeedAfter { get; private set; }
    public bool SuperSeed { get; private set; }
    public bool Sequential { get; private set; }
    /// <summary>Write through the page cache instead of direct I/O (to compare the two).</summary>
    public bool BufferedWrites { get; private set; }
    public TimeSpan? Timeout { get; private set; }
    public long UploadLimit { get; private set; }
    public long DownloadLimit { get; private set; }
    public int? PieceLength { get; private set; }
    public bool Private { get; private set; }
    /// <summary>Message stream encryption: prefer (default), require or disable.</summary>
    public Encryption.EncryptionPolicy Encryption { get; private set; } = new EngineOptions().Encryption;
    public bool Quiet { get; private set; }
    public bool Verbose { get; private set; }
    /// <summary>Print a final JSON line with the summary (for scripts and the benchmark).</summary>
    public bool Json { get; private set; }
    /// <summary>Hashing threads for <c>verify</c>; null: one per core.</summary>
    public int? Threads { get; private set; }
    public int? MaxConnections { get; private set; }
    /// <summary>How long <c>seed-many</c> keeps seeding before it exits by itself; null: until Ctrl+C or --timeout.</summary>
    public TimeSpan? Duration { get; private set; }
    /// <summary><c>loadgen</c>: connections to open.</summary>
    public int Connections { get; private set; } = 100;
    /// <summary><c>loadgen</c>: first source address; successive connections use successive addresses.</summary>
    public IPAddress? SourceBase { get; private set; }
    /// <summary><c>loadgen</c>: how many source addresses to rotate through.</summary>
    public int Sources { get; private set; } = 1;
    /// <summary><c>loadgen</c>: connection attempts in flight at once.</summary>
    public int Concurrency { get; private set; } = 64;
    /// <summary><c>loadgen</c>: how long to hold all connections open once they are up.</summary>
    public TimeSpan Hold { get; private set; } = TimeSpan.FromSeconds(2);
    /// <summary>DHT bootstrap nodes (HOST:PORT); <c>routers</c> stands for the well-known public routers.</summary>
    public List<string> DhtBootstrap { get; } = [];
    public bool NoDht { get; private set; }
    /// <summary>Local service discovery (BEP 14): off unless --lsd, since its multicast leaves the machine.</summary>
    public bool Lsd { get; private set; }

    /// <summary>The local discovery settings for <c>download</c> and <c>seed</c> (null unless --lsd; on the --bind interface).</summary>
    public LocalDiscovery.LocalDiscoveryOptions? LocalDiscovery(IPAddress bind) => Lsd
        ? new LocalDiscovery.LocalDiscoveryOptions { InterfaceAddress = bind.Equals(IPAddress.Any) ? null : bind }
        : null;

    /// <summary>The DHT settings for <c>download</c> and <c>seed</c> (on unless --no-dht; no bootstrap node unless given).</summary>
    public Dht.DhtOptions? Dht(IPAddress bind) => NoDht ? null : new Dht.DhtOptions
    {
        BootstrapNodes = DhtBootstrap.SelectMany(b => b == "routers" ? Engine.Dht.DhtOptions.WellKnownRouters : [b]).ToArray(),
        ListenEndPoint = null,
        ExternalAddress = bind.Equals(IPAddress.Any) ? null : bind,
    };

    public static CliOptions Parse(string[] args)
    {
        var o = new CliOptions { Command = args[0] };
        for (var i = 1; i < args.Length; i++)
        {
            var a = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new FormatException($"{a} needs a value");
            switch (a)
            {
                case "--out" or "-o": o.Out = Next(); break;
                case "--port" or "-p": o.Port = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--bind": o.Bind = IPAddress.Parse(Next()); break;
                case "--peer": o.Peers.Add(IPEndPoint.TryParse(Next(), out var ep) ? ep : throw new FormatException($"bad peer address '{args[i]}'")); break;
                case "--tracker" or "-t": o.Trackers.Add(Next()); break;
                case "--resume": o.Resume = Next(); break;
                case "--seed": o.SeedAfter = true; break;
                case "--super-seed": o.SuperSeed = true; break;
                case "--sequential": o.Sequential = true; break;
                case "--buffered-writes": o.BufferedWrites = true; break;
                case "--timeout": o.Timeout = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--upload-limit": o.UploadLimit = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--download-limit": o.DownloadLimit = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--piece-length": o.PieceLength = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--private": o.Private = true; break;
                case "--encryption":
                    o.Encryption = Engine.Encryption.EncryptionPolicies.TryParse(Next(), out var policy) ? policy
                        : throw new FormatException("--encryption takes prefer, require or disable");
                    break;
                case "--quiet" or "-q": o.Quiet = true; break;
                case "--verbose" or "-v": o.Verbose = true; break;
                case "--json": o.Json = true; break;
                case "--threads": o.Threads = Positive(Next(), a); break;
                case "--max-connections": o.MaxConnections = Positive(Next(), a); break;
                case "--duration": o.Duration = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--connections": o.Connections = Positive(Next(), a); break;
                case "--source-base": o.SourceBase = IPAddress.Parse(Next()); break;
                case "--sources": o.Sources = Positive(Next(), a); break;
                case "--concurrency": o.Concurrency = Positive(Next(), a); break;
                case "--dht-bootstrap":
                    foreach (var node in Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                        o.DhtBootstrap.Add(node == "routers" || Engine.Dht.DhtOptions.TryParseHostPort(node, out _, out _) ? node : throw new FormatException($"bad DHT node '{node}' (HOST:PORT)"));
                    break;
                case "--no-dht": o.NoDht = true; break;
                case "--lsd": o.Lsd = true; break;
                case "--no-lsd": o.Lsd = false; break;
                case "--hold": o.Hold = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                default:
                    if (a.StartsWith("--", StringComparison.Ordinal)) throw new FormatException($"unknown option {a}");
                    o.Positional.Add(a);
                    break;
            }
        }
        return o;
    }

    private static int Positive(string text, string option)
    {
        var n = int.Parse(text, CultureInfo.InvariantCulture);
        return n > 0 ? n : throw new FormatException($"{option} needs a positive number");
    }
}
