using System.Net;

namespace TorrentEdge.Engine.Connections;

/// <summary>
/// The narrow transport seam under the peer wire protocol: a byte stream to one peer. TCP in production,
/// an in-memory pair in tests. One reader and one writer may use it concurrently.
/// </summary>
public interface IPeerConnection : IAsyncDisposable
{
    /// <summary>The peer's address (for in-memory pairs, a made-up one).</summary>
    EndPoint RemoteEndPoint { get; }

    /// <summary>True when the peer dialled us.</summary>
    bool IsIncoming { get; }

    /// <summary>True when the payload is encrypted (MSE with RC4, see Encryption/); plain TCP is not.</summary>
    bool IsEncrypted => false;

    /// <summary>Dials the peer; completes at once for incoming or already connected connections.</summary>
    ValueTask ConnectAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Receives up to <paramref name="buffer"/>.Length bytes; 0 means the peer closed (or reset) the connection.
    /// An empty buffer waits until data is available without taking any (a zero-byte read).
    /// </summary>
    ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>Sends all of <paramref name="buffer"/>; throws if the connection is gone.</summary>
    ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken);

    /// <summary>
    /// Asks the transport to complete a waiting receive only once <paramref name="bytes"/> bytes are waiting (TCP's
    /// SO_RCVLOWAT; a closing peer still ends the wait at once); 1 is the usual "any data". The transport may hold a
    /// lower mark than asked. Any thread may call it, and a receive already waiting sees the new value. False when the
    /// transport has no such setting or refused it.
    /// </summary>
    bool TrySetReceiveLowWater(int bytes) => false;
}
