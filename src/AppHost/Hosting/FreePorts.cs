using System.Net;
using System.Net.Sockets;

namespace TorrentEdge.AppHost.Hosting;

/// <summary>Free TCP ports on 127.0.0.1 (bound and released: another process could take one meanwhile, rarely).</summary>
public static class FreePorts
{
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The first port from <paramref name="start"/> on that is free, or any free port past the range.</summary>
    public static int FirstFreeFrom(int start)
    {
        for (var port = start; port < Math.Min(start + 200, 65536); port++)
        {
            if (IsFree(port))
            {
                return port;
            }
        }
        return Next();
    }

    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
