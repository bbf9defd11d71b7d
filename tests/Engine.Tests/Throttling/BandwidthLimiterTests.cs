using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Throttling;

namespace TorrentEdge.Engine.Tests.Throttling;

public class BandwidthLimiterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void TryConsume_GlobalExhausted_FailsAndRefundsTorrentBucket()
    {
        var time = new FakeTimeProvider();
        var limits = new GlobalRateLimits(uploadBytesPerSecond: 1000, timeProvider: time);
        var (a, _) = limits.CreateForTorrent(uploadBytesPerSecond: 800);
        var (b, _) = limits.CreateForTorrent(uploadBytesPerSecond: 800);

        Assert.True(a.TryConsume(700));
        Assert.False(b.TryConsume(700));
        Assert.Equal(800, b.Torrent.Available, 3);
        Assert.True(b.TryConsume(300));
    }

    [Fact]
    public void TryConsume_TorrentLimitTighter_LimitsThatTorrentOnly()
    {
        var time = new FakeTimeProvider();
        var limits = new GlobalRateLimits(uploadBytesPerSecond: 10_000, timeProvider: time);
        var (slow, _) = limits.CreateForTorrent(uploadBytesPerSecond: 100);
        var (fast, _) = limits.CreateForTorrent();

        Assert.True(slow.TryConsume(100));
        Assert.False(slow.TryConsume(1));
        Assert.True(fast.TryConsume(9_000));
    }

    [Fact]
    public async Task ConsumeAsync_BothLimited_WaitsForTheSlowerBucket()
    {
        var time = new FakeTimeProvider();
        var limits = new GlobalRateLimits(downloadBytesPerSecond: 1000, timeProvider: time);
        var (_, download) = limits.CreateForTorrent(downloadBytesPerSecond: 500);
        await download.ConsumeAsync(500, Ct);

        var task = download.ConsumeAsync(500, Ct).AsTask();
        time.Advance(TimeSpan.FromMilliseconds(900));
        Assert.False(task.IsCompleted);
        time.Advance(TimeSpan.FromMilliseconds(100));
        await task.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Equal(500, limits.Download.Available, 3);
    }

    [Fact]
    public async Task ConsumeAsync_CancelledWhileWaitingForGlobal_RefundsBothBuckets()
    {
        var time = new FakeTimeProvider();
        var limits = new GlobalRateLimits(uploadBytesPerSecond: 1000, timeProvider: time);
        var (upload, _) = limits.CreateForTorrent(uploadBytesPerSecond: 5000);
        await limits.Upload.ConsumeAsync(1000, Ct);
        using var cts = new CancellationTokenSource();

        var task = upload.ConsumeAsync(2000, cts.Token).AsTask();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => task.WaitAsync(TimeSpan.FromSeconds(5), Ct));

        Assert.Equal(5000, upload.Torrent.Available, 3);
        Assert.Equal(0, limits.Upload.Available, 3);
    }
}
