using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;

namespace TorrentEdge.Engine.Connections;

/// <summary>One end of an in-memory connected pair, for tests of anything above the transport.</summary>
public sealed class InMemoryPeerConnection : IPeerConnection
{
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private int _disposed;

    private InMemoryPeerConnection(PipeReader input, PipeWriter output, EndPoint remoteEndPoint, bool isIncoming)
    {
        _input = input;
        _output = output;
        RemoteEndPoint = remoteEndPoint;
        IsIncoming = isIncoming;
    }

    public EndPoint RemoteEndPoint { get; }

    public bool IsIncoming { get; }

    /// <summary>
    /// Two connected ends: what one sends the other receives. <paramref name="maxBufferedBytes"/> bounds what a
    /// sender may queue before it waits for the receiver, like a socket's buffers. <paramref name="dialled"/> is the
    /// address the outgoing end appears to reach (192.0.2.2:6881 unless given): peers told apart by address (strikes,
    /// bans) need one each.
    /// </summary>
    public static (InMemoryPeerConnection Outgoing, InMemoryPeerConnection Incoming) CreatePair(long maxBufferedBytes = 1024 * 1024, IPEndPoint? dialled = null, IPEndPoint? dialler = null)
    {
        var options = new PipeOptions(pauseWriterThreshold: maxBufferedBytes, resumeWriterThreshold: maxBufferedBytes / 2, useSynchronizationContext: false);
        var toIncoming = new Pipe(options);
        var toOutgoing = new Pipe(options);
        var outgoing = new InMemoryPeerConnection(toOutgoing.Reader, toIncoming.Writer, dialled ?? new IPEndPoint(IPAddress.Parse("192.0.2.2"), 6881), isIncoming: false);
        var incoming = new InMemoryPeerConnection(toIncoming.Reader, toOutgoing.Writer, dialler ?? new IPEndPoint(IPAddress.Parse("192.0.2.1"), 50000), isIncoming: true);
        return (outgoing, incoming);
    }

    public ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return ValueTask.CompletedTask;
    }

    // Called per receive/send: pooled state machines keep the hot path free of allocations.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _disposed) != 0) return 0;
        try
        {
            var result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCanceled || Volatile.Read(ref _disposed) != 0) return 0;
            var available = result.Buffer;
            var n = (int)Math.Min(available.Length, buffer.Length);
            available.Slice(0, n).CopyTo(buffer.Span);
            _input.AdvanceTo(available.GetPosition(n));
            return n;
        }
        catch (InvalidOperationException) when (Volatile.Read(ref _disposed) != 0)
        {
            // Disposed while a receive was pending: the same as a close.
            return 0;
        }
    }

    // Called per receive/send: pooled state machines keep the hot path free of allocations.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var result = await _output.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (result.IsCompleted) throw new IOException("The other end closed the connection.");
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        // Our pending receive returns 0; the other end's ReceiveAsync sees the end of the stream and its SendAsync fails.
        _input.CancelPendingRead();
        await _output.CompleteAsync().ConfigureAwait(false);
        await _input.CompleteAsync().ConfigureAwait(false);
    }

    public override string ToString() => $"in-memory {(IsIncoming ? "in" : "out")} {RemoteEndPoint}";
}
