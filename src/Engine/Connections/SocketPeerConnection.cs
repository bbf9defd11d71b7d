using System.Net.Sockets;
using System.Net;
using System.Runtime.CompilerServices;

namespace TorrentEdge.Engine.Connections;

/// <summary>A peer connection over a TCP <see cref="Socket"/>.</summary>
public sealed class SocketPeerConnection : IPeerConnection
{
    private readonly SocketConnectionOptions _options;
    private Socket? _socket;
    private int _disposed;

    /// <summary>An outgoing connection; call <see cref="ConnectAsync"/> before using it.</summary>
    public SocketPeerConnection(IPEndPoint remoteEndPoint, SocketConnectionOptions? options = null)
    {
        RemoteEndPoint = remoteEndPoint;
        _options = options ?? SocketConnectionOptions.Default;
    }

    /// <summary>Wraps an accepted socket.</summary>
    internal SocketPeerConnection(Socket accepted, SocketConnectionOptions options)
    {
        _options = options;
        _socket = accepted;
        IsIncoming = true;
        RemoteEndPoint = accepted.RemoteEndPoint ?? new IPEndPoint(IPAddress.None, 0);
        Configure(accepted, options);
    }

    public EndPoint RemoteEndPoint { get; }

    public bool IsIncoming { get; }

    public bool IsConnected => _socket is { Connected: true };

    public async ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_socket is not null) return;
        var endPoint = (IPEndPoint)RemoteEndPoint;
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        Configure(socket, _options);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(endPoint, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new TimeoutException($"Connecting to {endPoint} took longer than {_options.ConnectTimeout}.");
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _socket = socket;
        if (Volatile.Read(ref _disposed) != 0)
        {
            socket.Dispose();
            throw new ObjectDisposedException(nameof(SocketPeerConnection));
        }
    }

    // Called per receive/send: pooled state machines keep the hot path free of allocations.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var socket = _socket ?? throw new InvalidOperationException("Not connected.");
        try
        {
            return await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown)
        {
            // A reset is how many clients hang up; to the protocol it is the same as a close.
            return 0;
        }
        catch (ObjectDisposedException) when (Volatile.Read(ref _disposed) != 0)
        {
            return 0;
        }
    }

    // Called per receive/send: pooled state machines keep the hot path free of allocations.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        var socket = _socket ?? throw new InvalidOperationException("Not connected.");
        while (!buffer.IsEmpty)
        {
            var sent = await socket.SendAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            buffer = buffer[sent..];
        }
    }

    public bool TrySetReceiveLowWater(int bytes)
    {
        var socket = _socket;
        if (socket is null || Volatile.Read(ref _disposed) != 0) return false;
        try
        {
            // Linux grows the receive buffer to fit a low-water mark and, when it must, clamps the TCP window to the
            // mark: so the mark is at most a quarter of the buffer (autotuned by then), which never needs that.
            if (bytes > 1) bytes = Math.Min(bytes, socket.ReceiveBufferSize / 4);
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReceiveLowWater, Math.Max(1, bytes));
            return true;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or PlatformNotSupportedException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return ValueTask.CompletedTask;
        var socket = _socket;
        if (socket is null) return ValueTask.CompletedTask;
        try
        {
            if (socket.Connected) socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // The peer may already be gone; closing is all that is left to do.
        }
        socket.Dispose();
        return ValueTask.CompletedTask;
    }

    public override string ToString() => $"{(IsIncoming ? "in" : "out")} {RemoteEndPoint}";

    private static void Configure(Socket socket, SocketConnectionOptions options)
    {
        socket.NoDelay = options.NoDelay;
        if (options.ReceiveBufferSize is { } receive) socket.ReceiveBufferSize = receive;
        if (options.SendBufferSize is { } send) socket.SendBufferSize = send;
    }
}
