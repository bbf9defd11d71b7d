using System.Buffers.Binary;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.TestSupport;

/// <summary>One raw message as a scripted peer reads it: the id and the body after it (for extended messages, starting with the extended id).</summary>
internal readonly record struct RawMessage(MessageId Id, byte[] Body)
{
    public int Index => BinaryPrimitives.ReadInt32BigEndian(Body);

    public BlockRequest Block => new(Index, BinaryPrimitives.ReadInt32BigEndian(Body.AsSpan(4)), BinaryPrimitives.ReadInt32BigEndian(Body.AsSpan(8)));

    public byte ExtendedId => Body[0];

    public ReadOnlyMemory<byte> ExtendedBody => Body.AsMemory(1);
}

/// <summary>
/// The remote end of an in-memory connection to a torrent, driven message by message by a test: it answers our
/// engine's handshake, sends whatever the test says (well-formed or not) and reads what the engine sends back.
/// </summary>
internal sealed class ScriptedPeer : IAsyncDisposable
{
    private readonly IPeerConnection _connection;
    private readonly PeerWireWriter _writer;

    private ScriptedPeer(IPeerConnection connection, Handshake engineHandshake)
    {
        _connection = connection;
        _writer = new PeerWireWriter(connection);
        EngineHandshake = engineHandshake;
    }

    /// <summary>The handshake the engine sent.</summary>
    public Handshake EngineHandshake { get; }

    /// <summary>How long a peer waits to be dialled before it counts as refused (banned, address full, not transferring).</summary>
    public static readonly TimeSpan NotDialledAfter = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Listens on <see cref="EngineTestKit.Network"/> (at <paramref name="address"/>, else a fresh address), tells
    /// <paramref name="torrent"/> of it as any peer source would, and completes the handshake of the connection the
    /// torrent dials with <paramref name="reserved"/>. Throws <see cref="EndOfStreamException"/> when the torrent does
    /// not dial within <see cref="NotDialledAfter"/> or hangs up.
    /// </summary>
    public static async Task<ScriptedPeer> ConnectAsync(TorrentManager torrent, InfoHash infoHash, ReservedBits reserved, CancellationToken ct,
        System.Net.IPEndPoint? address = null)
    {
        address ??= new System.Net.IPEndPoint(EngineTestKit.Network.NextAddress(), 6881);
        IPeerConnection theirs;
        await using (var listener = EngineTestKit.Network.Listen(address))
        {
            listener.Start();
            torrent.AddPeer(address);
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(ct);
            wait.CancelAfter(NotDialledAfter);
            try
            {
                theirs = await listener.Connections.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new EndOfStreamException($"The torrent did not dial {address}.");
            }
        }
        var handshake = new byte[Handshake.Length];
        await ReadExactlyAsync(theirs, handshake, ct);
        Assert.Equal(HandshakeStatus.Complete, Handshake.TryParse(handshake, out var engineHandshake));
        var peer = new ScriptedPeer(theirs, engineHandshake);
        peer._writer.Write(new Handshake(reserved, infoHash.ToArray(), PeerId.Generate("-XX0001-")));
        await peer._writer.FlushAsync(ct);
        return peer;
    }

    public async Task SendAsync(PeerMessage message, CancellationToken ct)
    {
        _writer.Write(message);
        await _writer.FlushAsync(ct);
    }

    /// <summary>Sends bytes as they are (for frames no codec would write).</summary>
    public ValueTask SendRawAsync(byte[] bytes, CancellationToken ct) => _connection.SendAsync(bytes, ct);

    /// <summary>The next message other than a keep-alive; throws <see cref="EndOfStreamException"/> when the engine hung up.</summary>
    public async Task<RawMessage> ReadAsync(CancellationToken ct)
    {
        var header = new byte[4];
        while (true)
        {
            await ReadExactlyAsync(_connection, header, ct);
            var length = BinaryPrimitives.ReadInt32BigEndian(header);
            if (length == 0) continue;
            var body = new byte[length];
            await ReadExactlyAsync(_connection, body, ct);
            return new RawMessage((MessageId)body[0], body[1..]);
        }
    }

    /// <summary>The next frame, keep-alives included (null); throws <see cref="EndOfStreamException"/> when the engine hung up.</summary>
    public async Task<RawMessage?> ReadFrameAsync(CancellationToken ct)
    {
        var header = new byte[4];
        await ReadExactlyAsync(_connection, header, ct);
        var length = BinaryPrimitives.ReadInt32BigEndian(header);
        if (length == 0) return null;
        var body = new byte[length];
        await ReadExactlyAsync(_connection, body, ct);
        return new RawMessage((MessageId)body[0], body[1..]);
    }

    /// <summary>Reads until a message matches; throws on hang-up or timeout.</summary>
    public async Task<RawMessage> ReadUntilAsync(Func<RawMessage, bool> match, CancellationToken ct)
    {
        while (true)
        {
            var message = await ReadAsync(ct);
            if (match(message)) return message;
        }
    }

    /// <summary>
    /// Answers every request with the bytes of <paramref name="data"/> until cancelled or the engine hangs up;
    /// <paramref name="onRequest"/> sees each request first.
    /// </summary>
    public async Task ServeAsync(byte[] data, int pieceLength, CancellationToken ct, Action<BlockRequest>? onRequest = null)
    {
        try
        {
            while (true)
            {
                var m = await ReadAsync(ct);
                if (m.Id != MessageId.Request) continue;
                var b = m.Block;
                onRequest?.Invoke(b);
                await SendAsync(PeerMessage.Piece(b.PieceIndex, b.Begin, data.AsMemory(b.PieceIndex * pieceLength + b.Begin, b.Length)), ct);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or EndOfStreamException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // Done serving, or the engine hung up.
        }
    }

    /// <summary>Reads until the engine closes the connection; false if it is still open after <paramref name="within"/>.</summary>
    public async Task<bool> ClosedWithinAsync(TimeSpan within, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(within);
        try
        {
            while (true) await ReadAsync(timeout.Token);
        }
        catch (Exception e) when (e is EndOfStreamException or InvalidOperationException or ObjectDisposedException or IOException)
        {
            return true;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    public static async Task ReadExactlyAsync(IPeerConnection c, Memory<byte> buffer, CancellationToken ct)
    {
        while (buffer.Length > 0)
        {
            var n = await c.ReceiveAsync(buffer, ct);
            if (n == 0) throw new EndOfStreamException();
            buffer = buffer[n..];
        }
    }

    public async ValueTask DisposeAsync()
    {
        _writer.Dispose();
        await _connection.DisposeAsync();
    }
}
