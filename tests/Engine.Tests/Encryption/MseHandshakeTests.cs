using System.Buffers.Binary;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Encryption;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Tests.Encryption;

public class MseHandshakeTests
{
    private static readonly InfoHash Torrent = new(Enumerable.Range(1, 20).Select(i => (byte)i).ToArray());
    private static readonly InfoHash Other = new(Enumerable.Range(101, 20).Select(i => (byte)i).ToArray());

    private static CancellationToken Timeout(out CancellationTokenSource cts, int seconds = 10)
    {
        cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(seconds));
        return cts.Token;
    }

    private static Func<byte[], MseTorrent?> Knows(EncryptionPolicy policy, params InfoHash[] torrents) =>
        req2 => PeerConnections.FindByReq2(torrents.Select(t => (t, policy)), req2);

    [Fact]
    public async Task InitiateAsync_AgainstAcceptAsync_Rc4BothWaysAndNothingInTheClear()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        var tapA = new TapConnection(a);
        var tapB = new TapConnection(b);
        await using var __ = tapA;
        await using var ___ = tapB;

        var accepting = MseHandshake.AcceptAsync(tapB, allowEncrypted: true, Knows(EncryptionPolicy.Prefer, Other, Torrent), ct).AsTask();
        var initiator = await MseHandshake.InitiateAsync(tapA, Torrent, CryptoMethods.Rc4 | CryptoMethods.Plaintext, ct);
        var responder = await accepting;

        Assert.NotNull(responder);
        Assert.True(initiator.IsEncrypted);
        Assert.True(responder.IsEncrypted);
        Assert.Equal(Torrent, responder.InfoHash);

        var secret = Encoding.ASCII.GetBytes("\u0013BitTorrent protocol and a payload that must not be seen");
        await initiator.SendAsync(secret, ct);
        Assert.Equal(secret, await ReceiveExactlyAsync(responder, secret.Length, ct));
        var reply = Encoding.ASCII.GetBytes("BitTorrent protocol reply");
        await responder.SendAsync(reply, ct);
        Assert.Equal(reply, await ReceiveExactlyAsync(initiator, reply.Length, ct));

        // On the wire: neither the payload nor the info-hash appears.
        Assert.Equal(-1, tapA.Sent.AsSpan().IndexOf("BitTorrent"u8));
        Assert.Equal(-1, tapB.Sent.AsSpan().IndexOf("BitTorrent"u8));
        Assert.Equal(-1, tapA.Sent.AsSpan().IndexOf(Torrent.ToArray()));
        // Ya (96) + PadA (<= 512) + req1 + req2^req3 (40) + VC..len(IA) (16), then the payload.
        Assert.InRange(tapA.Sent.Length, 96 + 56 + secret.Length, 96 + 512 + 56 + secret.Length);
    }

    [Fact]
    public async Task InitiateAsync_ResponderRequiresButOnlyPlaintextOffered_ResponderRefuses()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using var __ = a;
        await using var ___ = b;
        var accepting = MseHandshake.AcceptAsync(b, true, Knows(EncryptionPolicy.Require, Torrent), ct).AsTask();
        var initiating = MseHandshake.InitiateAsync(a, Torrent, CryptoMethods.Plaintext, ct).AsTask();
        Assert.Null(await accepting);
        await b.DisposeAsync(); // what the engine does with a refused peer
        await Assert.ThrowsAsync<MseHandshakeException>(() => initiating);
    }

    [Fact]
    public async Task AcceptAsync_PlaintextHandshake_ComesBackWhole()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using var __ = a;
        await using var ___ = b;
        var handshake = new Handshake(ReservedBits.Default, Torrent, PeerId.Generate());
        var bytes = new byte[68];
        handshake.Encode(bytes);
        // In three parts, so the listener must judge the prefix as the bytes arrive.
        var accepting = MseHandshake.AcceptAsync(b, allowEncrypted: false, Knows(EncryptionPolicy.Prefer, Torrent), ct).AsTask();
        await a.SendAsync(bytes.AsMemory(0, 1), ct);
        await Task.Delay(20, ct);
        await a.SendAsync(bytes.AsMemory(1, 10), ct);
        await Task.Delay(20, ct);
        await a.SendAsync(bytes.AsMemory(11), ct);
        var connection = await accepting;
        Assert.NotNull(connection);
        Assert.False(connection.IsEncrypted);
        Assert.False(connection.UsedHandshake);
        Assert.Equal(bytes, await ReceiveExactlyAsync(connection, 68, ct));
    }

    [Fact]
    public async Task AcceptAsync_EncryptedWhileDisabled_Refused()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using var __ = a;
        await using var ___ = b;
        await a.SendAsync(new DiffieHellman().PublicKey, ct);
        Assert.Null(await MseHandshake.AcceptAsync(b, allowEncrypted: false, Knows(EncryptionPolicy.Prefer, Torrent), ct));
    }

    [Fact]
    public async Task AcceptAsync_TorrentDisablesEncryption_Refused()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using var __ = a;
        await using var ___ = b;
        var accepting = MseHandshake.AcceptAsync(b, true, Knows(EncryptionPolicy.Disable, Torrent), ct).AsTask();
        var initiating = MseHandshake.InitiateAsync(a, Torrent, CryptoMethods.Rc4 | CryptoMethods.Plaintext, ct).AsTask();
        Assert.Null(await accepting);
        await b.DisposeAsync();
        await Assert.ThrowsAsync<MseHandshakeException>(() => initiating);
    }

    // A spec initiator (written out here from the spec) that offers plaintext only and sends an initial payload:
    // IA is encrypted, what follows is not; the responder must hand over both as plain bytes.
    [Fact]
    public async Task AcceptAsync_PlaintextSelectedWithInitialPayload_DecryptsOnlyTheInitialPayload()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using var __ = a;
        await using var ___ = b;
        var accepting = MseHandshake.AcceptAsync(b, true, Knows(EncryptionPolicy.Prefer, Torrent), ct).AsTask();
        var script = await SpecInitiator.SendUpToStep3Async(a, Torrent, padA: 17, provide: CryptoMethods.Plaintext, padC: 3,
            initialPayload: "hello "u8.ToArray(), ct);
        await a.SendAsync("world"u8.ToArray(), ct);
        var connection = await accepting;
        Assert.NotNull(connection);
        Assert.False(connection.IsEncrypted);
        Assert.True(connection.UsedHandshake);
        Assert.Equal("hello world"u8.ToArray(), await ReceiveExactlyAsync(connection, 11, ct));
        Assert.Equal(CryptoMethods.Plaintext, await script.ReadSelectAsync(a, ct));
    }

    [Fact]
    public async Task AcceptAsync_MaximumPadding_Accepted()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using var __ = a;
        await using var ___ = b;
        var accepting = MseHandshake.AcceptAsync(b, true, Knows(EncryptionPolicy.Require, Torrent), ct).AsTask();
        var script = await SpecInitiator.SendUpToStep3Async(a, Torrent, padA: 512, provide: CryptoMethods.Rc4, padC: 512, [], ct);
        Assert.NotNull(await accepting);
        Assert.Equal(CryptoMethods.Rc4, await script.ReadSelectAsync(a, ct));
    }

    // The sync marker (req1) must come within 512 bytes of padding: after 96 + 512 + 20 = 628 bytes without it the
    // responder gives up at once rather than read on (the peer here keeps the connection open and sends no more).
    [Fact]
    public async Task AcceptAsync_NoReq1Within628Bytes_DroppedWithoutWaiting()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using var __ = a;
        await using var ___ = b;
        var garbage = RandomNumberGenerator.GetBytes(628 - 96);
        await a.SendAsync(new DiffieHellman().PublicKey, ct);
        await a.SendAsync(garbage, ct);
        var e = await Assert.ThrowsAsync<MseHandshakeException>(() => MseHandshake.AcceptAsync(b, true, Knows(EncryptionPolicy.Prefer, Torrent), ct).AsTask());
        Assert.Contains("req1", e.Message);
    }

    [Fact]
    public async Task InitiateAsync_NoVcWithin512BytesOfPadB_DroppedWithoutWaiting()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using var __ = a;
        await using var ___ = b;
        await b.SendAsync(new DiffieHellman().PublicKey, ct);
        await b.SendAsync(RandomNumberGenerator.GetBytes(512 + 8), ct);
        var e = await Assert.ThrowsAsync<MseHandshakeException>(() => MseHandshake.InitiateAsync(a, Torrent, CryptoMethods.Rc4, ct).AsTask());
        Assert.Contains("verification constant", e.Message);
    }

    [Fact]
    public async Task AcceptAsync_PadCOver512_Dropped()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using var __ = a;
        await using var ___ = b;
        var accepting = MseHandshake.AcceptAsync(b, true, Knows(EncryptionPolicy.Prefer, Torrent), ct).AsTask();
        await SpecInitiator.SendUpToStep3Async(a, Torrent, padA: 0, provide: CryptoMethods.Rc4, padC: 513, [], ct);
        var e = await Assert.ThrowsAsync<MseHandshakeException>(() => accepting);
        Assert.Contains("PadC", e.Message);
    }

    [Fact]
    public async Task AcceptAsync_UnknownTorrent_Dropped()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using var __ = a;
        await using var ___ = b;
        var accepting = MseHandshake.AcceptAsync(b, true, Knows(EncryptionPolicy.Prefer, Other), ct).AsTask();
        await SpecInitiator.SendUpToStep3Async(a, Torrent, padA: 5, provide: CryptoMethods.Rc4, padC: 0, [], ct);
        await Assert.ThrowsAsync<MseHandshakeException>(() => accepting);
    }

    [Fact]
    public async Task AcceptAsync_WrongVerificationConstant_Dropped()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using var __ = a;
        await using var ___ = b;
        var accepting = MseHandshake.AcceptAsync(b, true, Knows(EncryptionPolicy.Prefer, Torrent), ct).AsTask();
        await SpecInitiator.SendUpToStep3Async(a, Torrent, padA: 5, provide: CryptoMethods.Rc4, padC: 0, [], ct, vcByte: 1);
        var e = await Assert.ThrowsAsync<MseHandshakeException>(() => accepting);
        Assert.Contains("verification constant", e.Message);
    }

    [Fact]
    public async Task AcceptAsync_DegeneratePublicKey_Dropped()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using var __ = a;
        await using var ___ = b;
        var one = new byte[96];
        one[95] = 1; // Y = 1 makes the secret 1 whatever our key
        await a.SendAsync(one, ct);
        await Assert.ThrowsAsync<MseHandshakeException>(() => MseHandshake.AcceptAsync(b, true, Knows(EncryptionPolicy.Prefer, Torrent), ct).AsTask());
    }

    [Fact]
    public async Task AcceptAsync_SilentAfterPublicKey_EndsWithTheCallersTimeout()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using var __ = a;
        await using var ___ = b;
        await a.SendAsync(new DiffieHellman().PublicKey, ct);
        using var shortly = CancellationTokenSource.CreateLinkedTokenSource(ct);
        shortly.CancelAfter(TimeSpan.FromMilliseconds(300));
        // The in-memory end reports a cancelled receive as a close (0 bytes): either way the handshake ends.
        await Assert.ThrowsAnyAsync<Exception>(() => MseHandshake.AcceptAsync(b, true, Knows(EncryptionPolicy.Prefer, Torrent), shortly.Token).AsTask());
        Assert.False(ct.IsCancellationRequested);
    }

    [Fact]
    public async Task OutgoingPeerConnection_PreferAgainstPlaintextOnlyPeer_FallsBackToANewPlaintextConnection()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var accepted = new List<Task<EncryptedPeerConnection?>>();
        var ends = new List<IPeerConnection>();
        IPeerConnection Dial()
        {
            var (a, b) = InMemoryPeerConnection.CreatePair();
            ends.Add(b);
            accepted.Add(MseHandshake.AcceptAsync(b, allowEncrypted: false, Knows(EncryptionPolicy.Disable, Torrent), ct).AsTask());
            return a;
        }
        var outgoing = new OutgoingPeerConnection(Dial, Torrent, EncryptionPolicy.Prefer);
        await using var __ = outgoing;
        // The plaintext-only side hangs up on the first try, as clients do on bytes that are not a handshake.
        var hangUp = accepted[0].ContinueWith(t => ends[0].DisposeAsync().AsTask(), TaskScheduler.Default);
        await outgoing.ConnectAsync(ct);
        Assert.True(outgoing.FellBack);
        Assert.False(outgoing.IsEncrypted);
        Assert.Equal(2, accepted.Count);
        await outgoing.SendAsync(Handshake.Prefix.ToArray(), ct);
        var plain = await accepted[1];
        Assert.NotNull(plain);
        Assert.False(plain.UsedHandshake);
        foreach (var end in ends) await end.DisposeAsync();
    }

    [Fact]
    public async Task OutgoingPeerConnection_RequireAgainstPlaintextOnlyPeer_Fails()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var dials = 0;
        IPeerConnection? other = null;
        IPeerConnection Dial()
        {
            dials++;
            var (a, b) = InMemoryPeerConnection.CreatePair();
            other = b;
            MseHandshake.AcceptAsync(b, allowEncrypted: false, Knows(EncryptionPolicy.Disable, Torrent), ct).AsTask()
                .ContinueWith(t => b.DisposeAsync().AsTask(), TaskScheduler.Default);
            return a;
        }
        var outgoing = new OutgoingPeerConnection(Dial, Torrent, EncryptionPolicy.Require);
        await using var __ = outgoing;
        await Assert.ThrowsAsync<MseHandshakeException>(() => outgoing.ConnectAsync(ct).AsTask());
        Assert.Equal(1, dials);
    }

    // Whatever a peer sends before hanging up, the handshake ends in one of its documented ways, quickly.
    [Fact]
    public async Task AcceptAndInitiate_RandomBytesThenClose_OnlyDocumentedOutcomes()
    {
        var ct = Timeout(out var cts, 60);
        using var _ = cts;
        var random = new Random(1818);
        for (var round = 0; round < 300; round++)
        {
            var junk = new byte[random.Next(0, 1500)];
            random.NextBytes(junk);
            if (round % 10 == 0 && junk.Length > 20) Handshake.Prefix.CopyTo(junk); // some look like plaintext
            foreach (var asInitiator in new[] { false, true })
            {
                var (a, b) = InMemoryPeerConnection.CreatePair();
                await using var __ = a;
                await using var ___ = b;
                await a.SendAsync(junk, ct);
                await a.DisposeAsync();
                var started = DateTime.UtcNow;
                try
                {
                    if (asInitiator) await MseHandshake.InitiateAsync(b, Torrent, CryptoMethods.Rc4 | CryptoMethods.Plaintext, ct);
                    else await MseHandshake.AcceptAsync(b, true, Knows(EncryptionPolicy.Prefer, Torrent), ct);
                }
                catch (IOException)
                {
                    // MseHandshakeException, or a send of ours failing once the other end is gone: both close the
                    // connection in the callers. Anything else (an index out of range, a null) escapes and fails.
                }
                Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(2), $"round {round} took too long");
            }
        }
    }

    private static async Task<byte[]> ReceiveExactlyAsync(IPeerConnection connection, int count, CancellationToken ct)
    {
        var buffer = new byte[count];
        var got = 0;
        while (got < count)
        {
            var n = await connection.ReceiveAsync(buffer.AsMemory(got), ct);
            if (n == 0) throw new IOException("closed");
            got += n;
        }
        return buffer;
    }

    /// <summary>Steps 1-3 of the spec as an initiator, with every field under the test's control.</summary>
    private sealed class SpecInitiator(Rc4 decryptor)
    {
        public static async Task<SpecInitiator> SendUpToStep3Async(IPeerConnection a, InfoHash infoHash, int padA, CryptoMethods provide, int padC,
            byte[] initialPayload, CancellationToken ct, byte vcByte = 0)
        {
            var dh = new DiffieHellman();
            await a.SendAsync((byte[])[.. dh.PublicKey, .. new byte[padA]], ct);
            var yb = await ReceiveExactlyAsync(a, 96, ct);
            var s = new byte[96];
            Assert.True(dh.TryComputeSecret(yb, s));
            var skey = infoHash.ToArray();
            var req2 = SHA1.HashData([.. "req2"u8, .. skey]);
            var req3 = SHA1.HashData([.. "req3"u8, .. s]);
            var encrypted = new List<byte>();
            encrypted.AddRange(Enumerable.Repeat(vcByte, 8));
            var field = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(field, (uint)provide);
            encrypted.AddRange(field);
            encrypted.AddRange([(byte)(padC >> 8), (byte)padC]);
            encrypted.AddRange(new byte[padC]);
            encrypted.AddRange([(byte)(initialPayload.Length >> 8), (byte)initialPayload.Length]);
            encrypted.AddRange(initialPayload);
            var body = encrypted.ToArray();
            new Rc4(SHA1.HashData([.. "keyA"u8, .. s, .. skey]), 1024).Apply(body);
            await a.SendAsync((byte[])[.. SHA1.HashData([.. "req1"u8, .. s]), .. req2.Zip(req3, (x, y) => (byte)(x ^ y)), .. body], ct);
            return new SpecInitiator(new Rc4(SHA1.HashData([.. "keyB"u8, .. s, .. skey]), 1024));
        }

        /// <summary>Skips PadB up to the encrypted VC and returns crypto_select.</summary>
        public async Task<CryptoMethods> ReadSelectAsync(IPeerConnection a, CancellationToken ct)
        {
            var vc = new byte[8];
            decryptor.Apply(vc);
            var seen = new List<byte>();
            while (seen.Count < 512 + 8 + 6)
            {
                seen.AddRange(await ReceiveExactlyAsync(a, 1, ct));
                var at = seen.ToArray().AsSpan().IndexOf(vc);
                if (at >= 0 && seen.Count >= at + 8 + 4)
                {
                    var select = seen.Skip(at + 8).Take(4).ToArray();
                    decryptor.Apply(select);
                    return (CryptoMethods)BinaryPrimitives.ReadUInt32BigEndian(select);
                }
            }
            throw new InvalidOperationException("no VC");
        }
    }

    /// <summary>Records what one end sends.</summary>
    private sealed class TapConnection(IPeerConnection inner) : IPeerConnection
    {
        public List<byte> SentBytes { get; } = [];
        public byte[] Sent => [.. SentBytes];
        public EndPoint RemoteEndPoint => inner.RemoteEndPoint;
        public bool IsIncoming => inner.IsIncoming;
        public ValueTask ConnectAsync(CancellationToken cancellationToken) => inner.ConnectAsync(cancellationToken);
        public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) => inner.ReceiveAsync(buffer, cancellationToken);
        public ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
        {
            lock (SentBytes) SentBytes.AddRange(buffer.Span);
            return inner.SendAsync(buffer, cancellationToken);
        }
        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
