using System.Buffers.Binary;
using System.Net;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Tests.Connections;

/// <summary>Receive batching: the mark chosen, and a real loopback socket waiting for it and let go by the watchdog.</summary>
public class ReceiveLowWaterTests
{
    private const int KiB = 1024;

    [Theory]
    [InlineData(4096 * KiB, 0, 1024 * KiB, 128 * KiB)] // streaming fast, much owed: the largest batch
    [InlineData(4096 * KiB, 0, 80 * KiB, 64 * KiB)] // 80 KiB in the last 10 ms: no batch takes longer to fill
    [InlineData(200 * KiB, 0, 1024 * KiB, 64 * KiB)] // 200 KiB owed: half of it, rounded down to a power of two
    [InlineData(200 * KiB, 160 * KiB, 1024 * KiB, 1)] // most of what is owed is already buffered
    [InlineData(48 * KiB, 0, 1024 * KiB, 1)] // too little owed to batch
    [InlineData(4096 * KiB, 0, 20 * KiB, 1)] // a slow peer: every receive wakes at the first data
    [InlineData(0, 0, 0, 1)]
    public void Choose_BoundedByOwedRecentAndMaximum(long owed, long buffered, long recent, int expected) =>
        Assert.Equal(expected, ReceiveLowWater.Choose(owed, buffered, recent));

    private sealed class Counter : IPeerMessageHandler
    {
        public int Pieces;
        public int Chokes;

        public bool OnMessage(in PeerMessage message)
        {
            if (message.Id == MessageId.Piece) Pieces++;
            if (message.Id == MessageId.Choke) Chokes++;
            return true;
        }
    }

    [Fact]
    public async Task Socket_PeerStreamsThenStopsShortOfTheBatch_ReceiveWaitsUntilTheWatchdogLetsItGo()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(30));
        await using var listener = new PeerListener(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Start();
        await using var sender = new SocketPeerConnection(listener.LocalEndPoint);
        await sender.ConnectAsync(cts.Token);
        await using var incoming = await listener.Connections.ReadAsync(cts.Token);
        // The peer owes us far more than it will send: as if it choked us without rejecting our requests.
        await using var reader = new PeerWireReader(incoming, FrameLimits.Default) { BytesOwed = () => 64L * 1024 * KiB };
        var counter = new Counter();

        // 4 MiB of blocks in 64 bursts over at least 64 ms, read as they come: the reader learns the peer streams.
        var chunk = WireStreams.Pieces(16);
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < 16; i++)
            {
                await sender.SendAsync(chunk, cts.Token);
                await Task.Delay(5, cts.Token);
            }
        }, cts.Token);
        while (counter.Pieces < 16 * 16)
            Assert.Equal(PeerReadStatus.MessagesRead, await reader.ReadAsync(counter, cts.Token));
        await sending;

        // The next receive waits for a batch; a 5-byte choke does not fill it.
        var pending = reader.ReadAsync(counter, cts.Token).AsTask();
        Assert.True(reader.LowWater >= ReceiveLowWater.Minimum, $"mark {reader.LowWater}");
        await Task.Delay(50, cts.Token);
        var choke = new byte[5];
        BinaryPrimitives.WriteInt32BigEndian(choke, 1);
        choke[4] = (byte)MessageId.Choke;
        await sender.SendAsync(choke, cts.Token);
        await Task.WhenAny(pending, Task.Delay(500, cts.Token));
        Assert.False(pending.IsCompleted, "the receive woke for 5 bytes while waiting for a batch");

        // The first tick notes what was received; the next finds nothing more came and lets the receive go.
        reader.RelaxLowWater();
        Assert.False(pending.IsCompleted);
        reader.RelaxLowWater();
        Assert.Equal(PeerReadStatus.MessagesRead, await pending.WaitAsync(TimeSpan.FromSeconds(5), cts.Token));
        Assert.Equal(1, counter.Chokes);
        Assert.Equal(1, reader.LowWater);
    }
}
