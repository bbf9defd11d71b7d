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
    public TimeSpan? Timeout { get; private set; }
    public long UploadLimit { get; private set; }
    public long DownloadLimit { get; private set; }
    public int? PieceLength { get; private set; }
    public bool Private { get; private set; }
    public bool Quiet { get; private set; }
    public bool Verbose { get; private set; }

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
                case "--timeout": o.Timeout = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--upload-limit": o.UploadLimit = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--download-limit": o.DownloadLimit = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--piece-length": o.PieceLength = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--private": o.Private = true; break;
                case "--quiet" or "-q": o.Quiet = true; break;
                case "--verbose" or "-v": o.Verbose = true; break;
                default:
                    if (a.StartsWith("--", StringComparison.Ordinal)) throw new FormatException($"unknown option {a}");
                    o.Positional.Add(a);
                    break;
            }
        }
        return o;
    }
}
