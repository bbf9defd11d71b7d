using TorrentEdge.Engine.Connections;

namespace TorrentEdge.Engine.Tests.Connections;

public class InMemoryPeerConnectionTests
{
    private static CancellationToken Timeout(out CancellationTokenSource cts)
    {
        cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(10));
        return cts.Token;
    }

    [Fact]
    public async Task SendAsync_BytesArriveAtTheOtherEnd_BothWays()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using (a)
        await using (b)
        {
            await a.ConnectAsync(ct);
            Assert.False(a.IsIncoming);
            Assert.True(b.IsIncoming);

            await a.SendAsync(new byte[] { 1, 2, 3 }, ct);
            await b.SendAsync(new byte[] { 9 }, ct);

            var buffer = new byte[10];
            Assert.Equal(3, await b.ReceiveAsync(buffer, ct));
            Assert.Equal(new byte[] { 1, 2, 3 }, buffer[..3]);
            Assert.Equal(1, await a.ReceiveAsync(buffer, ct));
            Assert.Equal(9, buffer[0]);
        }
    }

    [Fact]
    public async Task ReceiveAsync_SmallerBuffer_ReturnsTheRestOnTheNextCall()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using (a)
        await using (b)
        {
            await a.SendAsync(new byte[] { 1, 2, 3, 4, 5 }, ct);
            var buffer = new byte[2];
            Assert.Equal(2, await b.ReceiveAsync(buffer, ct));
            Assert.Equal(new byte[] { 1, 2 }, buffer);
            Assert.Equal(2, await b.ReceiveAsync(buffer, ct));
            Assert.Equal(new byte[] { 3, 4 }, buffer);
            Assert.Equal(1, await b.ReceiveAsync(buffer, ct));
            Assert.Equal(5, buffer[0]);
        }
    }

    [Fact]
    public async Task DisposeAsync_OneEnd_OtherEndReceivesZeroAndCannotSend()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using (b)
        {
            var pending = b.ReceiveAsync(new byte[4], ct);
            await a.DisposeAsync();
            Assert.Equal(0, await pending);
            await Assert.ThrowsAsync<IOException>(async () => await b.SendAsync(new byte[] { 1 }, ct));
        }
    }

    [Fact]
    public async Task DisposeAsync_WithOwnReceivePending_ReturnsZero()
    {
        var ct = Timeout(out var cts);
        using var _ = cts;
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using (b)
        {
            var pending = a.ReceiveAsync(new byte[4], ct);
            await a.DisposeAsync();
            Assert.Equal(0, await pending);
        }
    }

    [Fact]
    public async Task ReceiveAsync_Cancelled_Throws()
    {
        var (a, b) = InMemoryPeerConnection.CreatePair();
        await using (a)
        await using (b)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await a.ReceiveAsync(new byte[4], cts.Token));
        }
    }
}
