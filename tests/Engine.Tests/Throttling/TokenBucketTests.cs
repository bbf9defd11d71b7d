using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Throttling;

namespace TorrentEdge.Engine.Tests.Throttling;

public class TokenBucketTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void TryConsume_Unlimited_AlwaysSucceeds()
    {
        var bucket = new TokenBucket(0, new FakeTimeProvider());

        Assert.True(bucket.TryConsume(int.MaxValue));
        Assert.True(bucket.TryConsume(int.MaxValue));
    }

    [Fact]
    public void TryConsume_BurstOfOneSecond_ThenRefillsWithTime()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(1000, time);

        Assert.True(bucket.TryConsume(600));
        Assert.True(bucket.TryConsume(400));
        Assert.False(bucket.TryConsume(1));

        time.Advance(TimeSpan.FromMilliseconds(250));
        Assert.True(bucket.TryConsume(250));
        Assert.False(bucket.TryConsume(1));
    }

    [Fact]
    public void TryConsume_LongIdle_BurstCappedAtOneSecond()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(1000, time);
        time.Advance(TimeSpan.FromMinutes(5));

        Assert.True(bucket.TryConsume(1000));
        Assert.False(bucket.TryConsume(1));
    }

    [Fact]
    public void TryConsume_LargerThanBucket_SucceedsOnlyWhenFullThenOwesDebt()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(1000, time);

        Assert.True(bucket.TryConsume(3000));
        time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.False(bucket.TryConsume(1));
        time.Advance(TimeSpan.FromSeconds(0.501));
        Assert.True(bucket.TryConsume(1));
    }

    [Fact]
    public async Task ConsumeAsync_WithinBurst_CompletesSynchronously()
    {
        var bucket = new TokenBucket(1000, new FakeTimeProvider());

        var task = bucket.ConsumeAsync(1000, Ct);

        Assert.True(task.IsCompletedSuccessfully);
        await task;
    }

    [Fact]
    public async Task ConsumeAsync_OverBudget_WaitsForRefill()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(1000, time);
        await bucket.ConsumeAsync(1000, Ct);

        var task = bucket.ConsumeAsync(500, Ct).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(task.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(1));
        await task.WaitAsync(TimeSpan.FromSeconds(5), Ct);
    }

    [Fact]
    public async Task ConsumeAsync_TwoWaiters_ServedInOrderAtTheRate()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(1000, time);
        await bucket.ConsumeAsync(1000, Ct);

        var first = bucket.ConsumeAsync(1000, Ct).AsTask();
        var second = bucket.ConsumeAsync(1000, Ct).AsTask();
        time.Advance(TimeSpan.FromSeconds(1));
        await first.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.False(second.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        await second.WaitAsync(TimeSpan.FromSeconds(5), Ct);
    }

    [Fact]
    public async Task ConsumeAsync_Cancelled_RefundsTokens()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(1000, time);
        await bucket.ConsumeAsync(1000, Ct);
        using var cts = new CancellationTokenSource();

        var task = bucket.ConsumeAsync(800, cts.Token).AsTask();
        Assert.True(bucket.Available < -799);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task.WaitAsync(TimeSpan.FromSeconds(5), Ct));

        Assert.Equal(0, bucket.Available, 3);
    }

    [Fact]
    public void BytesPerSecond_Lowered_TrimsSavedTokens()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(1000, time);

        bucket.BytesPerSecond = 100;

        Assert.True(bucket.TryConsume(60));
        Assert.False(bucket.TryConsume(50));
    }

    [Fact]
    public void BytesPerSecond_FromUnlimited_StartsFull()
    {
        var time = new FakeTimeProvider();
        var bucket = new TokenBucket(0, time);
        Assert.True(bucket.IsUnlimited);

        bucket.BytesPerSecond = 500;

        Assert.True(bucket.TryConsume(500));
        Assert.False(bucket.TryConsume(1));
    }
}
