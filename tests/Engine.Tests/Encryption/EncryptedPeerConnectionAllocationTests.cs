using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Encryption;
using TorrentEdge.Engine.Metainfo;
using TorrentEdge.Engine.Protocol;
using TorrentEdge.Engine.Tests.Connections;

namespace TorrentEdge.Engine.Tests.Encryption;

/// <summary>The encrypted hot path (RC4 both ways) under the peer wire reader and writer; process-wide counts, so alone.</summary>
[Collection(nameof(AllocationMeasurement))]
public class EncryptedPeerConnectionAllocationTests
{
    private sealed class Checker : IPeerMessageHandler
    {
        public int Messages;
        public long BlockBytes;
        public long Wrong;

        public bool OnMessage(in PeerMessage message)
        {
            Messages++;
            if (message.Id == MessageId.Piece)
            {
                var payload = message.Payload;
                BlockBytes += payload.Length;
                // Every block byte is (index + offset-in-block) mod 251: a decryption slip shows here.
                for (var i = 0; i < payload.Length; i += 997)
                    if (payload.Slice(i, 1).FirstSpan[0] != (byte)((message.Index + i) % 251)) Wrong++;
            }
            return true;
        }
    }

    [Fact]
    public async Task ReadAsyncAndFlushAsync_OverRc4_BlocksIntactAndNoBlockSizedAllocations()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(60));
        var (a, b) = InMemoryPeerConnection.CreatePair(maxBufferedBytes: 64 * 1024);
        var infoHash = new InfoHash(new byte[20]);
        var accepting = MseHandshake.AcceptAsync(b, true, _ => new MseTorrent(infoHash, EncryptionPolicy.Require), cts.Token).AsTask();
        await using var sender = await MseHandshake.InitiateAsync(a, infoHash, CryptoMethods.Rc4, cts.Token);
        await using var receiver = (await accepting)!;
        Assert.True(sender.IsEncrypted && receiver.IsEncrypted);

        await using var reader = new PeerWireReader(receiver, FrameLimits.Default);
        using var writer = new PeerWireWriter(sender, 64 * 1024);
        var blocks = new byte[8][];
        for (var k = 0; k < blocks.Length; k++)
        {
            blocks[k] = new byte[BlockRequest.StandardBlockLength];
            for (var i = 0; i < blocks[k].Length; i++) blocks[k][i] = (byte)((k + i) % 251);
        }
        var checker = new Checker();

        async Task RunAsync(int batches)
        {
            var target = checker.Messages + batches * 2;
            var send = Task.Run(async () =>
            {
                for (var i = 0; i < batches; i++)
                {
                    writer.Write(PeerMessage.Have(i));
                    writer.Write(PeerMessage.Piece(i % blocks.Length, 0, blocks[i % blocks.Length]));
                    await writer.FlushAsync(cts.Token);
                }
            }, cts.Token);
            while (checker.Messages < target)
                if (await reader.ReadAsync(checker, cts.Token) != PeerReadStatus.MessagesRead) throw new InvalidOperationException("read failed");
            await send;
        }

        await RunAsync(200);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        await RunAsync(2000);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(2200L * BlockRequest.StandardBlockLength, checker.BlockBytes);
        Assert.Equal(0, checker.Wrong);
        // 2,000 encrypted 16 KiB blocks (33 MB): a buffer per send or receive would allocate all of it; the plaintext
        // test's bound (async boxes the pooled builder missed) holds here too.
        Assert.True(allocated < 2_000_000, $"allocated {allocated} bytes for 4000 messages");
    }
}
