using System.Net;
using System.Net.Sockets;

namespace TorrentEdge.Engine.InteropTests.Support;

/// <summary>Free loopback ports for programs that cannot be told to pick port 0 and report it.</summary>
public static class Ports
{
    public static int FreeTcpPort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    /// <summary>A port free for both TCP and UDP (opentracker and aria2 listen on both).</summary>
    public static int FreeTcpAndUdpPort()
    {
        for (var i = 0; i < 50; i++)
        {
            var port = FreeTcpPort();
            try
            {
                using var u = new UdpClient(new IPEndPoint(IPAddress.Loopback, port));
                return port;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException("No free TCP+UDP port found.");
    }
}
