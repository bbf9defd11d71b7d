using System.Net;
using System.Net.Sockets;

namespace TorrentEdge.PeerWorker.Runtime;

/// <summary>Chooses a replica's peer port in the configured range: the first one nothing listens on.</summary>
internal static class PeerPortRange
{
    /// <summary>
    /// Binds and listens on the first free port of [<paramref name="first"/>, <paramref name="last"/>] (just
    /// <paramref name="first"/> without a last; any free port when it is 0) and returns it with the socket holding it.
    /// </summary>
    /// <exception cref="InvalidOperationException">Every port of the range is in use.</exception>
    public static (int Port, Socket? Hold) Reserve(IPAddress address, int first, int? last, Exception? previous = null)
    {
        if (first == 0)
        {
            return (0, null);
        }
        var end = last ?? first;
        if (end < first || end > IPEndPoint.MaxPort || first < IPEndPoint.MinPort)
        {
            throw new InvalidOperationException($"The peer port range {first}-{end} is not valid.");
        }
        for (var port = first; port <= end; port++)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                socket.Bind(new IPEndPoint(address, port));
                // Listening, not only bound: a bound socket with SO_REUSEADDR would not keep another replica off the port.
                socket.Listen(1);
                return (port, socket);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.AddressAlreadyInUse or SocketError.AccessDenied)
            {
                socket.Dispose();
                previous = ex;
            }
        }
        throw new InvalidOperationException($"Every peer port of {first}-{end} on {address} is in use.", previous);
    }
}
