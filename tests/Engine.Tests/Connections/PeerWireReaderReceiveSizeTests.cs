using System.Buffers.Binary;
using System.Net;
using TorrentEdge.Engine.Connections;
using TorrentEdge.Engine.Protocol;

namespace TorrentEdge.Engine.Tests.Connections;

/// <summary>How big the reader's receives are: small and preceded by a zero-byte wait for a quiet peer, growing
/// to <see cref="PeerWireReader.MaximumReceiveSize"/> without the zero-byte wait for a peer sending at full speed.</summary>
public class PeerWireReaderReceiveSizeTests
{
    /// <summary>Serves a fixed byte stream, at most <paramref name="maxPerRead"/> bytes per receive, and records each receive's size.</summary>
    private sealed class RecordingConnection(byte[] stream, int maxPerRead) : IPeerConnection
    {
        private int _position;

        public List<int> Asked { get; } = [];

        public EndPoint RemoteEndPoint { get; } = new IPEndPoint(IPAddress.Loopback, 6881);

        public bool IsIncoming => false;

        public ValueTask ConnectAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            Asked.Add(buffer.Length);
            var n = Math.Min(Math.Min(buffer.Length, maxPerRead), stream.Length - _position);
            stream.AsSpan(_position, n).CopyTo(buffer.Span);
            _position += n;
            return ValueTask.FromResult(n);
        }

        public ValueTask SendAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class Counter : IPeerMessageHandler
    {
        public int Messages;

        public bool OnMessage(in PeerMessage message)
        {
            Messages++;
            return true;
        }
    }

    private static byte[] Haves(int count)
    {
        var stream = new byte[count * 9];
        for (var i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(stream.AsSpan(i * 9), 5);
            stream[i * 9 + 4] = (byte)MessageId.Have;
            BinaryPrimitives.WriteInt32BigEndian(stream.AsSpan(i * 9 + 5), i);
        }
        return stream;
    }

    private static async Task<int> ReadToEndAsync(RecordingConnection connection)
    {
        await using var reader = new PeerWireReader(connection, FrameLimits.Default);
        var counter = new Counter();
        for (var i = 0; i < 10_000 && await reader.ReadAsync(counter, TestContext.Current.CancellationToken) != PeerReadStatus.Closed; i++) { }
        return counter.Messages;
    }

    [Fact]
    public async Task ReadAsync_PeerFillingEveryReceive_GrowsToTheMaximumWithoutZeroByteWaits()
    {
        var connection = new RecordingConnection(WireStreams.Pieces(256), maxPerRead: int.MaxValue);

        Assert.Equal(256, await ReadToEndAsync(connection));

        var real = connection.Asked.Where(n => n > 0).ToList();
        Assert.Equal(PeerWireReader.MaximumReceiveSize, real.Max());
        Assert.True(real.Count < 4 * 1024 * 1024 / (32 * 1024), $"{real.Count} receives for 4 MiB");
        // One zero-byte wait before the first data; none while the peer keeps sending.
        Assert.Equal(0, connection.Asked[0]);
        Assert.DoesNotContain(0, connection.Asked.Skip(1).SkipLast(2));
    }

    [Fact]
    public async Task ReadAsync_QuietPeer_SmallReceivesEachAfterAZeroByteWait()
    {
        var connection = new RecordingConnection(Haves(50), maxPerRead: 9);

        Assert.Equal(50, await ReadToEndAsync(connection));

        var real = connection.Asked.Where(n => n > 0).ToList();
        Assert.All(real, n => Assert.InRange(n, 16 * 1024, 32 * 1024));
        Assert.Equal(real.Count, connection.Asked.Count(n => n == 0));
    }
}
