using System.Net;
using System.Net.Sockets;

namespace TorrentEdge.Engine.LocalDiscovery;

/// <summary>A datagram heard on the group: its length in the caller's buffer and who sent it.</summary>
public readonly record struct LsdDatagram(int Length, IPEndPoint From);

/// <summary>The seam under <see cref="LocalDiscoveryService"/>: send to the group, receive from it. Tests use a fake.</summary>
public interface ILsdTransport : IAsyncDisposable
{
    ValueTask SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken);

    ValueTask<LsdDatagram> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);
}

/// <summary>
/// BEP 14 over IPv4 multicast: one UDP socket on the group's port (shared with other clients on the host through
/// SO_REUSEADDR), a member of the group on one interface, sending there with hop limit <see cref="LocalDiscoveryOptions.TimeToLive"/>.
/// </summary>
public sealed class UdpLsdTransport : ILsdTransport
{
    private readonly Socket _socket;
    private readonly IPEndPoint _group;

    private UdpLsdTransport(Socket socket, IPEndPoint group)
    {
        _socket = socket;
        _group = group;
    }

    /// <summary>Joins <paramref name="group"/> on the interface of <paramref name="interfaceAddress"/> (null or 0.0.0.0: the system's choice).</summary>
    public static UdpLsdTransport Open(IPEndPoint group, IPAddress? interfaceAddress, int timeToLive)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(IPAddress.Any, group.Port));
            var local = interfaceAddress is { AddressFamily: AddressFamily.InterNetwork } a && !a.Equals(IPAddress.Any) ? a : null;
            socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.AddMembership, new MulticastOption(group.Address, local ?? IPAddress.Any));
            if (local is not null)
            {
                // IP_MULTICAST_IF takes the address in network order, as the bytes stand.
                socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastInterface, BitConverter.ToInt32(local.GetAddressBytes()));
            }
            socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastTimeToLive, timeToLive);
            // Other clients on this host hear us too; our own announces come back and are known by their cookie.
            socket.SetSocketOption(SocketOptionLevel.IP, SocketOptionName.MulticastLoopback, true);
            return new UdpLsdTransport(socket, group);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public async ValueTask SendAsync(ReadOnlyMemory<byte> datagram, CancellationToken cancellationToken) =>
        await _socket.SendToAsync(datagram, SocketFlags.None, _group, cancellationToken).ConfigureAwait(false);

    public async ValueTask<LsdDatagram> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var result = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), cancellationToken).ConfigureAwait(false);
        return new LsdDatagram(result.ReceivedBytes, (IPEndPoint)result.RemoteEndPoint);
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
