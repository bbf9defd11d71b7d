using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.PiecePicking;

namespace TorrentEdge.Engine.Tests.PiecePicking;

public class RequestQueueDepthTests
{
    private const int Block = 16 * 1024;

    [Theory]
    [InlineData(1024 * 1024, 100, 7)]      // 1 MiB/s × 100 ms = 6.4 blocks
    [InlineData(10 * 1024 * 1024, 50, 32)] // 10 MiB/s × 50 ms = 32 blocks
    [InlineData(1000, 100, 2)]             // a trickle: the minimum
    [InlineData(1e9, 1000, 250)]           // absurdly fast: the maximum
    [InlineData(0, 0, 2)]
    public void Compute_BandwidthDelayProductInBlocks_Clamped(double rate, int latencyMs, int expected)
    {
        Assert.Equal(expected, RequestQueueDepth.Compute(rate, TimeSpan.FromMilliseconds(latencyMs), Block, 2, 250));
    }

    [Fact]
    public void Depth_BeforeMeasurement_IsInitialDepth()
    {
        Assert.Equal(4, new RequestQueueDepth(new FakeTimeProvider()).Depth);
    }

    /// <summary>
    /// Simulates a peer link of fixed capacity and round-trip time: each round trip it delivers at most
    /// capacity × rtt, and blocks beyond that wait in its queue (so observed latency grows with depth).
    /// </summary>
    private static RequestQueueDepth Simulate(double capacity, TimeSpan rtt, int rounds, RequestQueueDepthOptions? options = null)
    {
        var time = new FakeTimeProvider();
        var depth = new RequestQueueDepth(time, options);
        var perRound = Math.Max(1, (int)(capacity * rtt.TotalSeconds / Block));
        for (var r = 0; r < rounds; r++)
        {
            var delivered = Math.Min(depth.Depth, perRound);
            var queued = depth.Depth - delivered;
            time.Advance(rtt);
            for (var i = 0; i < delivered; i++)
                depth.BlockReceived(Block, rtt + rtt * ((double)queued / perRound) * ((double)i / delivered));
        }
        return depth;
    }

    [Fact]
    public void Adaptive_FastLink_GrowsToAboutGainTimesBandwidthDelayProduct()
    {
        // 20 MiB/s at 40 ms: BDP = 51 blocks; with gain 2 the depth should settle near 100, not run away.
        var depth = Simulate(20 * 1024 * 1024, TimeSpan.FromMilliseconds(40), rounds: 300);
        Assert.InRange(depth.Depth, 80, 130);
        Assert.InRange(depth.BytesPerSecond, 15 * 1024 * 1024, 25 * 1024 * 1024);
        Assert.Equal(TimeSpan.FromMilliseconds(40), depth.MinLatency);
    }

    [Fact]
    public void MinQueueTime_LoopbackRoundTripTiny_KeepsHalfASecondOfTheRateOutstanding()
    {
        // 100 MiB/s at 0.2 ms: the product alone is 2 blocks; half a second of the rate is 3200, clamped to 500.
        var options = new RequestQueueDepthOptions { MinDepth = 16, MaxDepth = 500, MinQueueTime = TimeSpan.FromMilliseconds(500) };
        Assert.InRange(Simulate(100 * 1024 * 1024, TimeSpan.FromTicks(2000), rounds: 20_000).Depth, 2, 4);
        Assert.Equal(500, Simulate(100 * 1024 * 1024, TimeSpan.FromTicks(2000), rounds: 20_000, options).Depth);
    }

    [Fact]
    public void SlowStart_BeforeTheFirstRateWindow_DepthGrowsByOnePerBlock()
    {
        var time = new FakeTimeProvider();
        var options = new RequestQueueDepthOptions { MinDepth = 16, MaxDepth = 500, InitialDepth = 32, SlowStart = true };
        var depth = new RequestQueueDepth(time, options);
        for (var i = 0; i < 100; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(1));
            depth.BlockReceived(Block, TimeSpan.FromMilliseconds(1));
        }
        Assert.Equal(132, depth.Depth);
        for (var i = 0; i < 1000; i++) depth.BlockReceived(Block, TimeSpan.FromMilliseconds(1));
        Assert.Equal(500, depth.Depth);
        var without = new RequestQueueDepth(time, options with { SlowStart = false });
        for (var i = 0; i < 100; i++) without.BlockReceived(Block, TimeSpan.FromMilliseconds(1));
        Assert.Equal(32, without.Depth);
    }

    [Fact]
    public void SlowStart_AfterTheFirstWindow_TheMeasurementDecides()
    {
        // 64 KiB/s at 200 ms: slow start grows the depth during the first second, the measured product then takes over.
        var options = RequestQueueDepthOptions.Default with { SlowStart = true };
        Assert.InRange(Simulate(64 * 1024, TimeSpan.FromMilliseconds(200), rounds: 100, options).Depth, 2, 3);
    }

    [Fact]
    public void Adaptive_SlowLink_StaysShallow()
    {
        // 64 KiB/s at 200 ms: BDP under one block.
        var depth = Simulate(64 * 1024, TimeSpan.FromMilliseconds(200), rounds: 100);
        Assert.InRange(depth.Depth, 2, 3);
    }

    [Fact]
    public void Tick_PeerGoesIdle_RateDecays()
    {
        var time = new FakeTimeProvider();
        var depth = new RequestQueueDepth(time);
        for (var i = 0; i < 100; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(20));
            depth.BlockReceived(Block, TimeSpan.FromMilliseconds(20));
        }
        var busy = depth.BytesPerSecond;
        Assert.True(busy > 0);
        for (var i = 0; i < 5; i++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            depth.Tick();
        }
        Assert.True(depth.BytesPerSecond < busy / 10);
        Assert.Equal(2, depth.Depth);
    }
}
