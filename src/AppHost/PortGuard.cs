using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Configuration;

namespace TorrentEdge.AppHost;

/// <summary>
/// Checks the fixed ports before anything starts, so a taken one is one clear line naming the option to change
/// instead of a proxy error deep in the orchestrator's log.
/// </summary>
public static class PortGuard
{
    /// <summary>The first fixed port another process holds, as a message for people; null when all are free.</summary>
    public static string? FirstTaken(SuiteOptions suite, IConfiguration configuration)
    {
        // Aspire.Hosting.Testing replaces fixed ports with random ones: nothing to guard there.
        if (configuration.GetValue<bool>("DcpPublisher:RandomizePorts"))
        {
            return null;
        }
        if (suite.GatewayPort != 0 && IsTaken(suite.GatewayPort))
        {
            return $"Port {suite.GatewayPort} (the Gateway) is already in use. Choose another: dotnet run --project src/AppHost -- --gateway-port 3001";
        }
        foreach (var (variable, what) in DashboardUrls)
        {
            if (configuration[variable] is { } urls)
            {
                foreach (var url in urls.Split(';', StringSplitOptions.RemoveEmptyEntries))
                {
                    if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Port != 0 && IsTaken(uri.Port))
                    {
                        return $"Port {uri.Port} ({what}) is already in use. Choose another with {variable}, e.g. {variable}=http://localhost:{uri.Port + 1} dotnet run --project src/AppHost";
                    }
                }
            }
        }
        return null;
    }

    private static readonly (string Variable, string What)[] DashboardUrls =
    [
        ("ASPNETCORE_URLS", "the Aspire dashboard"),
        ("ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL", "the dashboard's OTLP endpoint"),
        ("ASPIRE_RESOURCE_SERVICE_ENDPOINT_URL", "the dashboard's resource service"),
    ];

    public static bool IsTaken(int port)
    {
        try
        {
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            // As Kestrel binds: a port merely in TIME_WAIT is free, one with a listener is not.
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return false;
        }
        catch (SocketException)
        {
            return true;
        }
    }
}
