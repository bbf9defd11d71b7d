using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>The loop's queue: full at its capacity, and sessions waiting for room are let go once the loop drains it.</summary>
public sealed class LoopQueueTests
{
    [Fact]
    public async Task WaitForRoomAsync_FullUntilTheLoopDrains_CompletesOnlyAfterTheDrain()
    {
        var ct = TestContext.Current.CancellationToken;
        var queue = new LoopQueue(4);
        Assert.True(queue.WaitForRoomAsync(ct).IsCompleted);
        for (var i = 0; i < 4; i++) Assert.True(queue.Post(TickMessage.Instance));
        Assert.True(queue.IsFull);
        var waiting = queue.WaitForRoomAsync(ct);
        Assert.False(waiting.IsCompleted);

        // A signal without room changes nothing.
        queue.SignalRoom();
        Assert.False(waiting.IsCompleted);

        while (queue.TryRead(out _))
        {
        }
        Assert.False(waiting.IsCompleted); // the loop says when, after its batch
        queue.SignalRoom();
        await waiting.WaitAsync(TimeSpan.FromSeconds(5), ct);
        Assert.Equal(0, queue.Count);
        Assert.Equal(4, queue.HighWater);
    }

    [Fact]
    public async Task Complete_SessionsWaiting_Released()
    {
        var ct = TestContext.Current.CancellationToken;
        var queue = new LoopQueue(1);
        queue.Post(TickMessage.Instance);
        var waiting = queue.WaitForRoomAsync(ct);
        queue.Complete();
        await waiting.WaitAsync(TimeSpan.FromSeconds(5), ct);
        Assert.False(queue.Post(TickMessage.Instance));
    }
}
