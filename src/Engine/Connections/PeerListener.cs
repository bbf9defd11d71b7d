using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;

namespace TorrentEdge.Engine.Connections;

/// <summary>Accepts incoming TCP peer connections and hands them out through a channel.</summary>
public sealed class PeerListener : IPeerListener
{
    private const int ConcurrentAccepts = 4;
    private readonly IPEndPoint _endPoint;
    private readonly SocketConnectionOptions _options;
    private readonly Channel<IPeerConnection> _accepted;
    private readonly CancellationTokenSource _stopping = new();
    private Socket? _socket;
    private Task? _acceptLoop;

    /// <param name="endPoint">Where to listen; port 0 picks a free port (see <see cref="LocalEndPoint"/>).</param>
    /// <param name="backlog">Accepted connections waiting for the consumer before accepting pauses.</param>
    public PeerListener(IPEndPoint endPoint, SocketConnectionOptions? options = null, int backlog = 64)
    {
        _endPoint = endPoint;
        _options = options ?? SocketConnectionOptions.Default;
        _accepted = Channel.CreateBounded<IPeerConnection>(new BoundedChannelOptions(backlog)
        {
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
        });
    }

    /// <summary>The bound address, with the real port; available after <see cref="Start"/>.</summary>
    public IPEndPoint LocalEndPoint => (IPEndPoint?)_socket?.LocalEndPoint ?? throw new InvalidOperationException("Not started.");

    /// <summary>Incoming connections; the reader owns (and must dispose) each one it takes.</summary>
    public ChannelReader<IPeerConnection> Connections => _accepted.Reader;

    /// <summary>The incoming connections as an async stream (ends when the listener is disposed).</summary>
    public IAsyncEnumerable<IPeerConnection> AcceptAllAsync(CancellationToken cancellationToken = default) =>
        _accepted.Reader.ReadAllAsync(cancellationToken);

    /// <summary>Binds and starts accepting.</summary>
    public void Start()
    {
        if (_socket is not null) throw new InvalidOperationException("Already started.");
        var socket = new Socket(_endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (_endPoint.AddressFamily == AddressFamily.InterNetworkV6 && _endPoint.Address.Equals(IPAddress.IPv6Any))
                socket.DualMode = true;
            socket.Bind(_endPoint);
            socket.Listen(128);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _socket = socket;
        _acceptLoop = AcceptLoopsAsync(socket, _stopping.Token);
    }

    // Several accepts outstanding at once: a burst of incoming connections is taken from the kernel's
    // queue in parallel instead of one accept completion (and thread-pool hop) at a time.
    private async Task AcceptLoopsAsync(Socket socket, CancellationToken cancellationToken)
    {
        var loops = new Task<Exception?>[ConcurrentAccepts];
        for (var i = 0; i < loops.Length; i++) loops[i] = AcceptLoopAsync(socket, cancellationToken);
        var failures = await Task.WhenAll(loops).ConfigureAwait(false);
        _accepted.Writer.TryComplete(failures.FirstOrDefault(f => f is not null));
    }

    private async Task<Exception?> AcceptLoopAsync(Socket socket, CancellationToken cancellationToken)
    {
        Exception? failure = null;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                Socket client;
                try
                {
                    client = await socket.AcceptAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted)
                {
                    continue; // the peer gave up between SYN and accept
                }
                var connection = new SocketPeerConnection(client, _options);
                try
                {
                    await _accepted.Writer.WriteAsync(connection, cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                    throw;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException) when (cancellationToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            failure = e;
        }
        return failure;
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping.IsCancellationRequested) return;
        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket?.Dispose();
        if (_acceptLoop is not null) await _acceptLoop.ConfigureAwait(false);
        _accepted.Writer.TryComplete();
        // Connections nobody took would otherwise leak their sockets.
        while (_accepted.Reader.TryRead(out var connection)) await connection.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
    }
}
