using System.Net;
using System.Threading.Channels;

namespace TorrentEdge.Engine.Connections;

/// <summary>
/// Makes the outgoing connection to a peer; set through <see cref="EngineOptions.ConnectionFactory"/>. The place to
/// wrap every connection the engine dials (an encryption layer, uTP beside TCP, an in-memory network in tests).
/// </summary>
public interface IPeerConnectionFactory
{
    /// <summary>A connection to <paramref name="remote"/>, not yet connected (the session calls <see cref="IPeerConnection.ConnectAsync"/>).</summary>
    IPeerConnection Create(IPEndPoint remote);
}

/// <summary>Hands over connections peers made to us.</summary>
public interface IPeerListener : IAsyncDisposable
{
    /// <summary>Where peers reach us, once started.</summary>
    IPEndPoint LocalEndPoint { get; }

    /// <summary>Accepted connections, before any handshake.</summary>
    ChannelReader<IPeerConnection> Connections { get; }

    void Start();
}

/// <summary>Makes the engine's listener; set through <see cref="EngineOptions.ListenerFactory"/>.</summary>
public interface IPeerListenerFactory
{
    IPeerListener Create(IPEndPoint endPoint);
}

/// <summary>TCP sockets: the default of both seams.</summary>
public sealed class SocketPeerTransport(SocketConnectionOptions? options = null) : IPeerConnectionFactory, IPeerListenerFactory
{
    public static SocketPeerTransport Default { get; } = new();

    public IPeerConnection Create(IPEndPoint remote) => new SocketPeerConnection(remote, options ?? SocketConnectionOptions.Default);

    IPeerListener IPeerListenerFactory.Create(IPEndPoint endPoint) => new PeerListener(endPoint, options ?? SocketConnectionOptions.Default);
}
