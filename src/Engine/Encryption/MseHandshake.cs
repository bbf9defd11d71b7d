using System.Buffers.Binary;
using System.Security.Cryptography;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Encryption;

/// <summary>The MSE handshake failed: the peer is dropped (an <see cref="IOException"/>, like any broken connection).</summary>
public sealed class MseHandshakeException(string message) : IOException(message);

/// <summary>The torrent an encrypted incoming connection asked for (found by its req2 hash) and that torrent's policy.</summary>
public readonly record struct MseTorrent(InfoHash InfoHash, EncryptionPolicy Policy);

/// <summary>
/// Message stream encryption (MSE/PE, "Protocol Encryption" as libtorrent, Vuze and Transmission speak it): a
/// Diffie-Hellman exchange hidden among random padding, the torrent named by a hash of its info-hash (SKEY), and RC4
/// (first 1024 bytes discarded) or plaintext for the payload. Runs once per connection, before the BitTorrent
/// handshake, on any <see cref="IPeerConnection"/>.
/// </summary>
public static class MseHandshake
{
    /// <summary>Most padding either side may send (PadA..PadD).</summary>
    public const int MaxPadding = 512;

    /// <summary>Keystream bytes discarded before use (the spec's RC4-drop1024).</summary>
    public const int DiscardedKeystream = 1024;

    private const int HashLength = 20;
    private const int VcLength = 8;
    private const int KeyLength = DiffieHellman.KeyLength;

    /// <summary>
    /// Dials the MSE handshake as the initiator (A) on a connected <paramref name="connection"/> for the torrent
    /// <paramref name="infoHash"/>, offering <paramref name="provide"/>. No initial payload is sent: the BitTorrent
    /// handshake follows through the returned connection.
    /// </summary>
    public static async ValueTask<EncryptedPeerConnection> InitiateAsync(IPeerConnection connection, InfoHash infoHash, CryptoMethods provide,
        CancellationToken cancellationToken, DiffieHellman? keys = null)
    {
        if (provide == CryptoMethods.None) throw new ArgumentException("Nothing to offer.", nameof(provide));
        keys ??= new DiffieHellman();
        var skey = infoHash.ToArray();
        var inbox = new Inbox(connection);

        // 1. A->B: Ya, PadA
        await SendAsync(connection, [.. keys.PublicKey, .. RandomPadding()], cancellationToken).ConfigureAwait(false);

        // 2. B->A: Yb, PadB (PadB's end is found below by the encrypted VC)
        await inbox.FillAsync(KeyLength, cancellationToken).ConfigureAwait(false);
        var secret = new byte[KeyLength];
        if (!keys.TryComputeSecret(inbox.Data[..KeyLength], secret)) throw new MseHandshakeException("The peer's public key is invalid.");
        inbox.Consume(KeyLength);
        var encryptor = new Rc4(Hash("keyA"u8, secret, skey), DiscardedKeystream);
        var decryptor = new Rc4(Hash("keyB"u8, secret, skey), DiscardedKeystream);

        // 3. A->B: HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S), ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
        var message = new byte[HashLength * 2 + VcLength + 4 + 2 + 2];
        Hash("req1"u8, secret).CopyTo(message, 0);
        var req2 = Hash("req2"u8, skey);
        var req3 = Hash("req3"u8, secret);
        for (var i = 0; i < HashLength; i++) message[HashLength + i] = (byte)(req2[i] ^ req3[i]);
        var plain = message.AsSpan(HashLength * 2);
        BinaryPrimitives.WriteUInt32BigEndian(plain.Slice(VcLength, 4), (uint)provide);
        // len(PadC) = 0 and len(IA) = 0: zero-length PadC is what every client sends.
        encryptor.Apply(plain);
        await SendAsync(connection, message, cancellationToken).ConfigureAwait(false);

        // 4. B->A: ENCRYPT(VC, crypto_select, len(padD), padD): synchronise on the encrypted VC within PadB's bound.
        Span<byte> vc = stackalloc byte[VcLength];
        vc.Clear();
        decryptor.Apply(vc);
        var vcAt = await inbox.FindAsync(vc, MaxPadding, cancellationToken).ConfigureAwait(false);
        if (vcAt < 0) throw new MseHandshakeException("The peer never sent the verification constant.");
        inbox.Consume(vcAt + VcLength);
        await inbox.FillAsync(6, cancellationToken).ConfigureAwait(false);
        Span<byte> header = stackalloc byte[6];
        decryptor.Apply(inbox.Data[..6], header);
        inbox.Consume(6);
        var select = (CryptoMethods)BinaryPrimitives.ReadUInt32BigEndian(header);
        var padD = BinaryPrimitives.ReadUInt16BigEndian(header[4..]);
        if (select is not (CryptoMethods.Rc4 or CryptoMethods.Plaintext) || (select & provide) == 0)
            throw new MseHandshakeException($"The peer selected {(uint)select:X}, not one of the offered methods.");
        if (padD > MaxPadding) throw new MseHandshakeException("PadD is longer than 512 bytes.");
        await inbox.FillAsync(padD, cancellationToken).ConfigureAwait(false);
        decryptor.Skip(padD);
        inbox.Consume(padD);

        // 5. The payload stream: whatever already arrived is its start.
        var rc4 = select == CryptoMethods.Rc4;
        return new EncryptedPeerConnection(connection, rc4 ? decryptor : null, long.MaxValue, rc4 ? encryptor : null, inbox.Data)
        {
            UsedHandshake = true,
            InfoHash = infoHash,
        };
    }

    /// <summary>
    /// Reads the first bytes of an incoming connection and answers as the listener must: a plaintext BitTorrent
    /// handshake (19, "BitTorrent protocol") comes back as a plaintext connection that receives those bytes again;
    /// anything else is taken as an MSE initiator's public key and answered as the responder (B), with the torrent
    /// found by <paramref name="resolve"/> from the req2 hash. Returns null to drop the peer (encrypted when
    /// <paramref name="allowEncrypted"/> is false, or a torrent whose policy refuses the outcome).
    /// </summary>
    public static async ValueTask<EncryptedPeerConnection?> AcceptAsync(IPeerConnection connection, bool allowEncrypted,
        Func<byte[], MseTorrent?> resolve, CancellationToken cancellationToken, DiffieHellman? keys = null)
    {
        var inbox = new Inbox(connection);
        while (true)
        {
            var (plaintext, judged) = LooksPlaintext(inbox.Data);
            if (!plaintext) break;
            if (judged == Handshake.Prefix.Length) return EncryptedPeerConnection.Plaintext(connection, inbox.Data);
            await inbox.FillAsync(judged + 1, cancellationToken).ConfigureAwait(false);
        }
        if (!allowEncrypted) return null;
        return await RespondAsync(connection, inbox, resolve, keys ?? new DiffieHellman(), cancellationToken).ConfigureAwait(false);
    }

    // Judged byte by byte as they arrive, so a plaintext peer is not kept waiting for 20 bytes it may send in parts.
    private static (bool Plaintext, int Judged) LooksPlaintext(ReadOnlySpan<byte> data)
    {
        var judged = Math.Min(data.Length, Handshake.Prefix.Length);
        return (data[..judged].SequenceEqual(Handshake.Prefix[..judged]), judged);
    }

    private static async ValueTask<EncryptedPeerConnection?> RespondAsync(IPeerConnection connection, Inbox inbox,
        Func<byte[], MseTorrent?> resolve, DiffieHellman keys, CancellationToken cancellationToken)
    {
        // 1. A->B: Ya, PadA
        await inbox.FillAsync(KeyLength, cancellationToken).ConfigureAwait(false);
        var secret = new byte[KeyLength];
        if (!keys.TryComputeSecret(inbox.Data[..KeyLength], secret)) throw new MseHandshakeException("The peer's public key is invalid.");
        inbox.Consume(KeyLength);

        // 2. B->A: Yb, PadB
        await SendAsync(connection, [.. keys.PublicKey, .. RandomPadding()], cancellationToken).ConfigureAwait(false);

        // 3. Synchronise on HASH('req1', S) within PadA's bound (96 + 512 + 20 = 628 bytes from the start at most).
        var req1 = Hash("req1"u8, secret);
        var at = await inbox.FindAsync(req1, MaxPadding, cancellationToken).ConfigureAwait(false);
        if (at < 0) throw new MseHandshakeException("The peer never sent the req1 hash within 512 bytes of padding.");
        inbox.Consume(at + HashLength);
        await inbox.FillAsync(HashLength + VcLength + 4 + 2, cancellationToken).ConfigureAwait(false);
        var req3 = Hash("req3"u8, secret);
        var req2 = new byte[HashLength];
        for (var i = 0; i < HashLength; i++) req2[i] = (byte)(inbox.Data[i] ^ req3[i]);
        inbox.Consume(HashLength);
        if (resolve(req2) is not { } torrent) throw new MseHandshakeException("The peer asked for a torrent we do not have.");
        var skey = torrent.InfoHash.ToArray();
        var decryptor = new Rc4(Hash("keyA"u8, secret, skey), DiscardedKeystream);
        var encryptor = new Rc4(Hash("keyB"u8, secret, skey), DiscardedKeystream);

        Span<byte> head = stackalloc byte[VcLength + 4 + 2];
        decryptor.Apply(inbox.Data[..head.Length], head);
        inbox.Consume(head.Length);
        if (head[..VcLength].IndexOfAnyExcept((byte)0) >= 0) throw new MseHandshakeException("The verification constant is wrong.");
        var provide = (CryptoMethods)BinaryPrimitives.ReadUInt32BigEndian(head.Slice(VcLength, 4));
        var padC = BinaryPrimitives.ReadUInt16BigEndian(head[(VcLength + 4)..]);
        if (padC > MaxPadding) throw new MseHandshakeException("PadC is longer than 512 bytes.");
        await inbox.FillAsync(padC + 2, cancellationToken).ConfigureAwait(false);
        decryptor.Skip(padC);
        inbox.Consume(padC);
        Span<byte> iaLength = stackalloc byte[2];
        decryptor.Apply(inbox.Data[..2], iaLength);
        inbox.Consume(2);
        var ia = BinaryPrimitives.ReadUInt16BigEndian(iaLength);

        var select = torrent.Policy.Select(provide);
        if (select == CryptoMethods.None) return null;

        // 4. B->A: ENCRYPT(VC, crypto_select, len(padD), padD) with zero-length PadD.
        var reply = new byte[VcLength + 4 + 2];
        BinaryPrimitives.WriteUInt32BigEndian(reply.AsSpan(VcLength, 4), (uint)select);
        encryptor.Apply(reply);
        await SendAsync(connection, reply, cancellationToken).ConfigureAwait(false);

        // The rest is the payload: IA (always encrypted), then RC4 or plaintext as selected.
        var rc4 = select == CryptoMethods.Rc4;
        return new EncryptedPeerConnection(connection, decryptor, rc4 ? long.MaxValue : ia, rc4 ? encryptor : null, inbox.Data)
        {
            UsedHandshake = true,
            InfoHash = torrent.InfoHash,
        };
    }

    /// <summary>HASH('req2', SKEY): how an initiator names a torrent without revealing its info-hash.</summary>
    public static byte[] Req2Hash(InfoHash infoHash) => Hash("req2"u8, infoHash.ToArray());

    private static byte[] Hash(ReadOnlySpan<byte> label, ReadOnlySpan<byte> a, ReadOnlySpan<byte> b = default)
    {
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha1.AppendData(label);
        sha1.AppendData(a);
        sha1.AppendData(b);
        return sha1.GetHashAndReset();
    }

    private static byte[] RandomPadding() => RandomNumberGenerator.GetBytes(RandomNumberGenerator.GetInt32(MaxPadding + 1));

    private static ValueTask SendAsync(IPeerConnection connection, byte[] bytes, CancellationToken cancellationToken) =>
        connection.SendAsync(bytes, cancellationToken);

    /// <summary>Bytes received during the handshake, bounded: nothing a peer sends can make it grow.</summary>
    private sealed class Inbox(IPeerConnection connection)
    {
        // The longest handshake (Ya, PadA, req1, req2^req3, VC.., PadC, len(IA)) is 1,176 bytes; room for what
        // follows in the same segment.
        private const int Capacity = 2048;
        private readonly byte[] _buffer = new byte[Capacity];
        private int _start;
        private int _end;

        public Span<byte> Data => _buffer.AsSpan(_start, _end - _start);

        public void Consume(int count) => _start += count;

        /// <summary>Receives until at least <paramref name="count"/> bytes are buffered.</summary>
        public async ValueTask FillAsync(int count, CancellationToken cancellationToken)
        {
            if (_end - _start >= count) return;
            if (_start + count > Capacity)
            {
                _buffer.AsSpan(_start, _end - _start).CopyTo(_buffer);
                _end -= _start;
                _start = 0;
            }
            while (_end - _start < count)
            {
                var n = await connection.ReceiveAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
                if (n == 0) throw new MseHandshakeException("The peer closed the connection during the encryption handshake.");
                _end += n;
            }
        }

        /// <summary>
        /// Finds <paramref name="marker"/> after at most <paramref name="maxSkip"/> bytes of padding; returns its
        /// offset, or -1 once that many bytes arrived without it.
        /// </summary>
        public async ValueTask<int> FindAsync(byte[] marker, int maxSkip, CancellationToken cancellationToken)
        {
            var window = maxSkip + marker.Length;
            while (true)
            {
                var data = Data;
                var at = data[..Math.Min(data.Length, window)].IndexOf(marker);
                if (at >= 0) return at;
                if (data.Length >= window) return -1;
                await FillAsync(data.Length + 1, cancellationToken).ConfigureAwait(false);
            }
        }

        public ValueTask<int> FindAsync(ReadOnlySpan<byte> marker, int maxSkip, CancellationToken cancellationToken) =>
            FindAsync(marker.ToArray(), maxSkip, cancellationToken);
    }
}
