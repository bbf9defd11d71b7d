using System.Buffers;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Tests.Connections;

[CollectionDefinition(nameof(AllocationMeasurement), DisableParallelization = true)]
public sealed class AllocationMeasurement;

/// <summary>Process-wide allocation counts, so this runs alone.</summary>
[Collection(nameof(AllocationMeasurement))]
public class PeerWireAllocationTests
{
    private sealed class Counter : IPeerMessageHandler
    {
        public int Messages;
        public long BlockBytes;

        public bool OnMessage(in PeerMessage message)
        {
            Messages++;
            BlockBytes += message.Payload.Length;
            return true;
        }
    }

    [Fact]
    public async Task ReadAsyncAndFlushAsync_ManyMessages_NeverAllocateBlockSizedBuffers()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(30));
        // Socket-like buffering: a 1 MiB in-memory queue would churn more pipe segments than ArrayPool keeps.
        var (a, b) = InMemoryPeerConnection.CreatePair(maxBufferedBytes: 64 * 1024);
        await using (a)
        await using (b)
        await using (var reader = new PeerWireReader(b, FrameLimits.Default))
        {
            using var writer = new PeerWireWriter(a, 64 * 1024);
            var block = new byte[BlockRequest.StandardBlockLength];
            var counter = new Counter();

            async Task RunAsync(int batches)
            {
                var target = counter.Messages + batches * 3;
                var send = Task.Run(async () =>
                {
                    for (var i = 0; i < batches; i++)
                    {
                        writer.Write(PeerMessage.Have(i));
                        writer.Write(PeerMessage.Request(new BlockRequest(i, 0, block.Length)));
                        writer.Write(PeerMessage.Piece(i, 0, block));
                        await writer.FlushAsync(cts.Token);
                    }
                }, cts.Token);
                // No Assert inside the measured loop: xUnit's assertions allocate.
                while (counter.Messages < target)
                    if (await reader.ReadAsync(counter, cts.Token) != PeerReadStatus.MessagesRead) throw new InvalidOperationException("read failed");
                await send;
            }

            await RunAsync(200); // warm up pools and tiered code
            var before = GC.GetTotalAllocatedBytes(precise: true);
            await RunAsync(2000);
            var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

            Assert.Equal(2200L * block.Length, counter.BlockBytes);
            // 6000 messages carrying ~33 MB of blocks: copying each block into a new array would allocate all of it.
            // What remains (~0.5 KB per flushed batch here) is async state-machine boxes the pooled builder missed
            // as continuations hop threads.
            Assert.True(allocated < 2_000_000, $"allocated {allocated} bytes for 6000 messages");
        }
    }
}
