using System.Net.Sockets;
using Testcontainers.MongoDb;

namespace TorrentEdge.Catalog.Tests.Infrastructure;

/// <summary>One MongoDB server for the test run (also linked into tests/Analytics.Tests).</summary>
internal static class MongoServer
{
    public const string EnvironmentVariable = "TORRENTEDGE_TEST_MONGODB";

    private static readonly Lazy<Task<string>> Server = new(StartAsync);

    public static async Task<string> GetConnectionStringAsync()
    {
        var (connectionString, reason) = await TryGetConnectionStringAsync();
        if (connectionString is null)
        {
            Assert.Skip(reason!);
        }
        return connectionString;
    }

    /// <summary>The server's connection string, or null and why there is none.</summary>
    public static async Task<(string? ConnectionString, string? SkipReason)> TryGetConnectionStringAsync()
    {
        if (Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } given)
        {
            return (given, null);
        }
        if (DockerUnavailableReason() is { } reason)
        {
            return (null, $"No MongoDB to test against: {reason}, and {EnvironmentVariable} is not set.");
        }
        return (await Server.Value, null);
    }

    private static async Task<string> StartAsync()
    {
        var container = new MongoDbBuilder("mongo:8.0").Build();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await container.StartAsync(timeout.Token);
        // Testcontainers' reaper removes the container when the test process ends.
        return container.GetConnectionString();
    }

    /// <summary>Why Docker cannot be used here, or null when its socket accepts a connection.</summary>
    private static string? DockerUnavailableReason()
    {
        var host = Environment.GetEnvironmentVariable("DOCKER_HOST");
        if (host is { Length: > 0 } && !host.StartsWith("unix://", StringComparison.Ordinal))
        {
            return null; // a TCP Docker host: let Testcontainers try it
        }
        var path = host is { Length: > 0 } ? host["unix://".Length..] : "/var/run/docker.sock";
        if (!File.Exists(path))
        {
            return $"Docker is not available (no socket at {path})";
        }
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(path));
            return null;
        }
        catch (SocketException e)
        {
            return $"Docker's socket {path} refuses connections ({e.SocketErrorCode})";
        }
    }
}
