using System.Buffers;
using System.Net;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Tests.Connections;

public class PeerWireTests
{
    private static readonly byte[] InfoHash = Enumerable.Range(0, 20).Select(i => (byte)(i * 7)).ToArray();

    private sealed class Recorder : IPeerMessageHandler
    {
        public List<string> Messages { get; } = [];
        public List<byte[]> Blocks { get; } = [];
        public int StopAfter { get; init; } = int.MaxValue;

        public bool OnMessage(in PeerMessage message)
        {
            Messages.Add(message.ToString());
            if (message.Id == MessageId.Piece) Blocks.Add(message.Payload.ToArray());
            return Messages.Count < StopAfter;
        }
    }

    private static CancellationTokenSource Timeout()
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(10));
        return cts;
    }

    private static async Task ExchangeAsync(IPeerConnection a, IPeerConnection b, CancellationToken ct)
    {
        using var writer = new PeerWireWriter(a);
        await using var reader = new PeerWireReader(b, FrameLimits.Default.ForPieceCount(100));
        var peerId = PeerId.Generate();
        var block = new byte[16384];
        Random.Shared.NextBytes(block);

        writer.Write(new Handshake(ReservedBits.Default, InfoHash, peerId));
        writer.Write(PeerMessage.Bitfield(new byte[13]));
        writer.Write(PeerMessage.Unchoke);
        writer.Write(PeerMessage.Have(99));
        writer.Write(PeerMessage.Piece(4, 16384, block));
        writer.Write(PeerMessage.KeepAlive);
        var expectedBytes = writer.BufferedBytes;
        await writer.FlushAsync(ct);
        Assert.Equal(0, writer.BufferedBytes);
        Assert.Equal(expectedBytes, writer.BytesSent);

        var handshake = await reader.ReadHandshakeAsync(ct);
        Assert.True(handshake.Succeeded);
        Assert.Equal(peerId, handshake.Handshake.PeerId);
        Assert.True(handshake.Handshake.InfoHash.SequenceEqual(InfoHash));

        var recorder = new Recorder();
        while (recorder.Messages.Count < 5)
            Assert.Equal(PeerReadStatus.MessagesRead, await reader.ReadAsync(recorder, ct));

        Assert.Equal(["Bitfield(13 bytes)", "Unchoke", "Have(99)", "Piece(4 @16384+16384)", "KeepAlive"], recorder.Messages);
        Assert.Equal(block, recorder.Blocks.Single());
        Assert.Equal(expectedBytes, reader.BytesReceived);

        await a.DisposeAsync();
        Assert.Equal(PeerReadStatus.Closed, await reader.ReadAsync(recorder, ct));
    }

    [Fact]
    public async Task WriterAndReader_OverInMemoryPair_DeliverHandshakeAndMessages()
    {
        using var cts = Timeout();
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using (b) await ExchangeAsync(a, b, cts.Token);
    }

    [Fact]
    public async Task WriterAndReader_OverLoopbackTcp_DeliverHandshakeAndMessages()
    {
        using var cts = Timeout();
        await using var listener = new PeerListener(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Start();
        var outgoing = new SocketPeerConnection(listener.LocalEndPoint);
        await outgoing.ConnectAsync(cts.Token);
        await using var incoming = await listener.Connections.ReadAsync(cts.Token);
        await ExchangeAsync(outgoing, incoming, cts.Token);
    }

    [Fact]
    public async Task ReadAsync_BytesTrickleInOneAtATime_SameMessages()
    {
        using var cts = Timeout();
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using (a)
        await using (b)
        await using (var reader = new PeerWireReader(b, FrameLimits.Default))
        {
            var buffer = new ArrayBufferWriter<byte>();
            PeerMessage.Request(new BlockRequest(1, 0, 16384)).WriteTo(buffer);
            PeerMessage.Piece(2, 0, new byte[] { 5, 6, 7 }).WriteTo(buffer);
            var bytes = buffer.WrittenSpan.ToArray();
            var sender = Task.Run(async () =>
            {
                for (var i = 0; i < bytes.Length; i++)
                {
                    await a.SendAsync(bytes.AsMemory(i, 1), cts.Token);
                    await Task.Yield();
                }
            }, cts.Token);

            var recorder = new Recorder();
            while (recorder.Messages.Count < 2)
                Assert.Equal(PeerReadStatus.MessagesRead, await reader.ReadAsync(recorder, cts.Token));
            await sender;
            Assert.Equal(["Request(piece 1 @0+16384)", "Piece(2 @0+3)"], recorder.Messages);
            Assert.Equal(new byte[] { 5, 6, 7 }, recorder.Blocks.Single());
        }
    }

    [Fact]
    public async Task ReadAsync_PeerAnnouncesTwoGigabytes_TooLargeAfterFourBytes()
    {
        using var cts = Timeout();
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using (a)
        await using (b)
        await using (var reader = new PeerWireReader(b, FrameLimits.Default))
        {
            await a.SendAsync(new byte[] { 0x7F, 0xFF, 0xFF, 0xFF }, cts.Token);
            Assert.Equal(PeerReadStatus.TooLarge, await reader.ReadAsync(new Recorder(), cts.Token));
            Assert.Equal(4, reader.BytesReceived);
        }
    }

    [Fact]
    public async Task ReadAsync_MalformedHave_Malformed()
    {
        using var cts = Timeout();
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using (a)
        await using (b)
        await using (var reader = new PeerWireReader(b, FrameLimits.Default))
        {
            await a.SendAsync(new byte[] { 0, 0, 0, 3, 4, 0, 0 }, cts.Token);
            Assert.Equal(PeerReadStatus.Malformed, await reader.ReadAsync(new Recorder(), cts.Token));
        }
    }

    [Fact]
    public async Task ReadAsync_HandlerStops_RemainingMessagesStayForTheNextRead()
    {
        using var cts = Timeout();
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using (a)
        await using (b)
        await using (var reader = new PeerWireReader(b, FrameLimits.Default))
        {
            var buffer = new ArrayBufferWriter<byte>();
            PeerMessage.Choke.WriteTo(buffer);
            PeerMessage.Have(1).WriteTo(buffer);
            PeerMessage.Have(2).WriteTo(buffer);
            await a.SendAsync(buffer.WrittenMemory, cts.Token);

            var first = new Recorder { StopAfter = 1 };
            Assert.Equal(PeerReadStatus.Stopped, await reader.ReadAsync(first, cts.Token));
            Assert.Equal(["Choke"], first.Messages);

            var rest = new Recorder();
            Assert.Equal(PeerReadStatus.MessagesRead, await reader.ReadAsync(rest, cts.Token));
            Assert.Equal(["Have(1)", "Have(2)"], rest.Messages);
        }
    }

    [Fact]
    public async Task ReadHandshakeAsync_NotBitTorrent_InvalidHandshake()
    {
        using var cts = Timeout();
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using (a)
        await using (b)
        await using (var reader = new PeerWireReader(b, FrameLimits.Default))
        {
            await a.SendAsync("GET / HTTP/1.1\r\n"u8.ToArray(), cts.Token);
            Assert.Equal(PeerReadStatus.InvalidHandshake, (await reader.ReadHandshakeAsync(cts.Token)).Status);
        }
    }
}
