using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace TorrentEdge.AppHost;

/// <summary>
/// The AppHost's own options, given as arguments after <c>--</c> (<c>--gateway-port 3000 --data-dir D --workers 2
/// --redis off</c>) or as configuration keys of the same names.
/// </summary>
public sealed record SuiteOptions(int GatewayPort, string DataDir, int Workers, bool Redis, string Environment)
{
    public string DownloadRoot => Path.Combine(DataDir, "downloads");
    public string ResumeRoot => Path.Combine(DataDir, "resume");

    /// <summary>Reads the options, or says in <paramref name="error"/> which one is wrong and how to fix it.</summary>
    public static bool TryRead(IConfiguration configuration, IHostEnvironment environment, out SuiteOptions options, out string? error)
    {
        options = new SuiteOptions(Topology.DefaultGatewayPort, "", Topology.DefaultWorkers, true, environment.EnvironmentName);
        error = null;
        if (!TryInt(configuration, "gateway-port", Topology.DefaultGatewayPort, 0, 65535, out var port, ref error)
            || !TryInt(configuration, "workers", Topology.DefaultWorkers, 1, 16, out var workers, ref error))
        {
            return false;
        }
        var redis = configuration["redis"] ?? "auto";
        if (redis is not ("auto" or "off"))
        {
            error = $"--redis must be 'auto' (redis-server when installed) or 'off', not '{redis}'. An external Redis is given as ConnectionStrings__redis.";
            return false;
        }
        var dataDir = Path.GetFullPath(configuration["data-dir"] is { Length: > 0 } dir ? dir : Topology.DefaultDataDir);
        options = options with { GatewayPort = port, Workers = workers, DataDir = dataDir, Redis = redis == "auto" };
        return true;
    }

    private static bool TryInt(IConfiguration configuration, string key, int fallback, int min, int max, out int value, ref string? error)
    {
        value = fallback;
        if (configuration[key] is not { } text)
        {
            return true;
        }
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max)
        {
            return true;
        }
        error = $"--{key} must be a whole number from {min} to {max}, not '{text}'.";
        return false;
    }
}
