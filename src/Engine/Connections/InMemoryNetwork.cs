using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace TorrentEdge.Engine.Connections;

/// <summary>
/// A network in memory: listeners registered by address, dials that find them and get one end of an
/// <see cref="InMemoryPeerConnection"/> pair. Set as both <see cref="EngineOptions.ConnectionFactory"/> and
/// <see cref="EngineOptions.ListenerFactory"/>, engines (and scripted peers) reach each other with no socket, so their
/// tests run on a fake clock. A dial to an address nobody listens on is refused, as TCP would refuse it.
/// </summary>
public sealed class InMemoryNetwork : IPeerConnectionFactory, IPeerListenerFactory
{
    private readonly ConcurrentDictionary<IPEndPoint, Listener> _listeners = new();
    private int _nextPort = 20000;
    private int _nextAddress;

    /// <summary>The address dials appear to come from; each engine's own listening address is better, see <see cref="From"/>.</summary>
    public IPAddress DefaultSource { get; init; } = IPAddress.Parse("10.255.0.1");

    /// <summary>A fresh address in 10.0.0.0/8, so engines and peers of one test never share one (per-address limits and bans).</summary>
    public IPAddress NextAddress()
    {
        var n = Interlocked.Increment(ref _nextAddress);
        return new IPAddress([10, (byte)(n >> 16), (byte)(n >> 8), (byte)n]);
    }

    /// <summary>Listens at <paramref name="endPoint"/> (port 0: a free port; any-address: a fresh address).</summary>
    public IPeerListener Listen(IPEndPoint endPoint)
    {
        var address = endPoint.Address.Equals(IPAddress.Any) || endPoint.Address.Equals(IPAddress.IPv6Any) ? NextAddress() : endPoint.Address;
        var port = endPoint.Port == 0 ? Interlocked.Increment(ref _nextPort) : endPoint.Port;
        return new Listener(this, new IPEndPoint(address, port));
    }

    IPeerListener IPeerListenerFactory.Create(IPEndPoint endPoint) => Listen(endPoint);

    /// <summary>A connection to <paramref name="remote"/> from <see cref="DefaultSource"/>.</summary>
    public IPeerConnection Create(IPEndPoint remote) => new Dial(this, remote, new IPEndPoint(DefaultSource, Interlocked.Increment(ref _nextPort)));

    /// <summary>A connection factory whose dials come from <paramref name="source"/> (what the listener sees as the remote address).</summary>
    public IPeerConnectionFactory From(IPAddress source) => new SourceFactory(this, source);

    /// <summary>Dials at once (a scripted peer connecting to an engine); refused with a <see cref="SocketException"/> when nobody listens.</summary>
    public IPeerConnection Connect(IPEndPoint remote, IPEndPoint source)
    {
        if (!_listeners.TryGetValue(remote, out var listener)) throw new SocketException((int)SocketError.ConnectionRefused);
        var (outgoing, incoming) = InMemoryPeerConnection.CreatePair(dialled: remote, dialler: source);
        if (!listener.Deliver(incoming))
        {
            _ = incoming.DisposeAsync().AsTask();
            throw new SocketException((int)SocketError.ConnectionRefused);
        }
        return outgoing;
    }

    private sealed class SourceFactory(InMemoryNetwork network, IPAddress source) : IPeerConnectionFactory
    {
        public IPeerConnection Create(IPEndPoint remote) => new Dial(network, remote, new IPEndPoint(source, Interlocked.Increment(ref network._nextPort)));
    }

    /// <summary>An outgoing connection that reaches its listener when the session connects.</summary>
    private sealed class Dial(InMemoryNetwork network, IPEndPoint remote, IPEndPoint source) : IPeerConnection
    {
        private IPeerConnection? _inner;

        public EndPoint RemoteEndPoint => remote;

        public bool IsIncoming => false;

        public ValueTask ConnectAsync(CancellationToken cancellationToken)
        {
            _inner = network.Connect(remote, source);
            return ValueTask.CompletedTask;
        }

        public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
            _inner?.ReceiveAsync(buffer, cancellationToken) ?? throw new InvalidOperationException("Not connected.");

        public ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) =>
            _inner?.SendAsync(buffer, cancellationToken) ?? throw new InvalidOperationException("Not connected.");

        public ValueTask DisposeAsync() => _inner?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    private sealed class Listener(InMemoryNetwork network, IPEndPoint endPoint) : IPeerListener
    {
        private readonly Channel<IPeerConnection> _accepted = Channel.CreateUnbounded<IPeerConnection>();
        private bool _started;

        public IPEndPoint LocalEndPoint => _started ? endPoint : throw new InvalidOperationException("Not started.");

        public ChannelReader<IPeerConnection> Connections => _accepted.Reader;

        public void Start()
        {
            if (!network._listeners.TryAdd(endPoint, this)) throw new SocketException((int)SocketError.AddressAlreadyInUse);
            _started = true;
        }

        public bool Deliver(IPeerConnection connection) => _accepted.Writer.TryWrite(connection);

        public ValueTask DisposeAsync()
        {
            network._listeners.TryRemove(new KeyValuePair<IPEndPoint, Listener>(endPoint, this));
            _accepted.Writer.TryComplete();
            return ValueTask.CompletedTask;
        }
    }
}
