using System.Net;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Encryption;

/// <summary>
/// An outgoing connection that negotiates encryption by policy when it connects: under
/// <see cref="EncryptionPolicy.Require"/> the MSE handshake or nothing; under <see cref="EncryptionPolicy.Prefer"/>
/// the MSE handshake first and, when the peer does not answer it (most plaintext-only clients hang up on the first
/// byte), a fresh plaintext connection. Everything after <see cref="ConnectAsync"/> goes to the negotiated connection.
/// </summary>
public sealed class OutgoingPeerConnection : IPeerConnection
{
    /// <summary>How long the MSE handshake may take before a preferring dial falls back to plaintext.</summary>
    public static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(5);

    private readonly Func<IPeerConnection> _dial;
    private readonly InfoHash _infoHash;
    private IPeerConnection _current;
    private int _disposed;

    /// <param name="dial">Makes a new, unconnected transport to the peer (called again for a plaintext fallback).</param>
    public OutgoingPeerConnection(Func<IPeerConnection> dial, InfoHash infoHash, EncryptionPolicy policy)
    {
        if (policy == EncryptionPolicy.Disable) throw new ArgumentException("A disabled policy needs no negotiation: use the transport itself.", nameof(policy));
        _dial = dial;
        _infoHash = infoHash;
        Policy = policy;
        _current = dial();
        RemoteEndPoint = _current.RemoteEndPoint;
    }

    public EncryptionPolicy Policy { get; }

    public EndPoint RemoteEndPoint { get; }

    public bool IsIncoming => false;

    public bool IsEncrypted => _current.IsEncrypted;

    /// <summary>True when a preferring dial fell back to plaintext after the MSE handshake failed.</summary>
    public bool FellBack { get; private set; }

    public async ValueTask ConnectAsync(CancellationToken cancellationToken)
    {
        var transport = _current;
        await transport.ConnectAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(HandshakeTimeout);
            _current = await MseHandshake.InitiateAsync(transport, _infoHash, Policy.Offered(), timeout.Token).ConfigureAwait(false);
            return;
        }
        catch (Exception e) when (Policy == EncryptionPolicy.Prefer && !cancellationToken.IsCancellationRequested &&
                                  e is IOException or OperationCanceledException or System.Net.Sockets.SocketException)
        {
            await transport.DisposeAsync().ConfigureAwait(false);
        }
        catch
        {
            await transport.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        // The peer would not speak MSE: dial again and speak plaintext.
        var plain = _dial();
        _current = plain;
        FellBack = true;
        if (Volatile.Read(ref _disposed) != 0) throw new ObjectDisposedException(nameof(OutgoingPeerConnection));
        await plain.ConnectAsync(cancellationToken).ConfigureAwait(false);
    }

    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) => _current.ReceiveAsync(buffer, cancellationToken);

    public bool TrySetReceiveLowWater(int bytes) => _current.TrySetReceiveLowWater(bytes);

    public ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) => _current.SendAsync(buffer, cancellationToken);

    public ValueTask DisposeAsync()
    {
        Interlocked.Exchange(ref _disposed, 1);
        return _current.DisposeAsync();
    }

    public override string ToString() => _current.ToString() ?? RemoteEndPoint.ToString() ?? "?";
}
