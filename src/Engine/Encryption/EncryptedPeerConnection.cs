using System.Buffers;
using System.Net;
using System.Runtime.CompilerServices;
using TorrentEdge.Engine.Connections;

namespace TorrentEdge.Engine.Encryption;

/// <summary>
/// A peer connection after the MSE handshake: it decrypts what it receives in place and encrypts what it sends
/// into a pooled buffer, so the peer wire protocol above it is unchanged. Also carries bytes read during the
/// handshake that belong to the payload (the initiator's initial payload, or a plaintext handshake the listener
/// looked at before deciding it was not MSE). One reader and one writer may use it concurrently: each direction has
/// its own cipher.
/// </summary>
public sealed class EncryptedPeerConnection : IPeerConnection
{
    private readonly IPeerConnection _inner;
    private readonly Rc4? _decryptor;
    private readonly Rc4? _encryptor;
    // Received bytes still to pass through the decryptor: unbounded for RC4; for plaintext after MSE only the
    // initiator's initial payload (IA), which the spec always encrypts.
    private long _decryptRemaining;
    private byte[]? _pending;
    private int _pendingStart;
    private int _pendingEnd;

    internal EncryptedPeerConnection(IPeerConnection inner, Rc4? decryptor, long decryptCount, Rc4? encryptor, ReadOnlySpan<byte> pending)
    {
        _inner = inner;
        _decryptor = decryptor;
        _decryptRemaining = decryptor is null ? 0 : decryptCount;
        _encryptor = encryptor;
        if (!pending.IsEmpty)
        {
            _pending = pending.ToArray();
            _pendingEnd = _pending.Length;
        }
    }

    /// <summary>A plaintext connection whose first bytes were already read (they are received again first).</summary>
    internal static EncryptedPeerConnection Plaintext(IPeerConnection inner, ReadOnlySpan<byte> alreadyRead) =>
        new(inner, null, 0, null, alreadyRead);

    public EndPoint RemoteEndPoint => _inner.RemoteEndPoint;

    public bool IsIncoming => _inner.IsIncoming;

    /// <summary>True when the payload is RC4-encrypted in both directions.</summary>
    public bool IsEncrypted => _encryptor is not null;

    /// <summary>True when the MSE handshake took place (the payload may still be plaintext if both sides chose it).</summary>
    public bool UsedHandshake { get; init; }

    /// <summary>The torrent the MSE handshake named (its SKEY); null for plaintext.</summary>
    public Metainfo.InfoHash? InfoHash { get; init; }

    public ValueTask ConnectAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    // Called per receive/send: pooled state machines keep the hot path free of allocations.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        int n;
        if (_pending is { } pending)
        {
            if (buffer.IsEmpty) return 0; // data is available: a zero-byte read completes at once
            n = Math.Min(buffer.Length, _pendingEnd - _pendingStart);
            pending.AsSpan(_pendingStart, n).CopyTo(buffer.Span);
            _pendingStart += n;
            if (_pendingStart == _pendingEnd) _pending = null;
        }
        else
        {
            n = await _inner.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        if (n > 0 && _decryptRemaining > 0)
        {
            var count = (int)Math.Min(n, _decryptRemaining);
            _decryptor!.Apply(buffer.Span[..count]);
            if (_decryptRemaining != long.MaxValue) _decryptRemaining -= count;
        }
        return n;
    }

    // Called per receive/send: pooled state machines keep the hot path free of allocations.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        if (_encryptor is null)
        {
            await _inner.SendAsync(buffer, cancellationToken).ConfigureAwait(false);
            return;
        }
        // Encrypted into a rented copy, never in place: callers may send memory they still own or share.
        var rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            _encryptor.Apply(buffer.Span, rented);
            await _inner.SendAsync(rented.AsMemory(0, buffer.Length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    // RC4 keeps the length of what it decrypts, so a mark on the wire is the same mark after decryption.
    public bool TrySetReceiveLowWater(int bytes) => _inner.TrySetReceiveLowWater(bytes);

    public ValueTask DisposeAsync() => _inner.DisposeAsync();

    public override string ToString() => $"{_inner} ({(IsEncrypted ? "rc4" : UsedHandshake ? "mse-plaintext" : "plaintext")})";
}
