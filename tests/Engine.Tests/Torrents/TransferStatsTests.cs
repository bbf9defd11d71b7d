using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>The torrent's counters alone: restored counts, rates per tick, seeding time on a fake clock.</summary>
public sealed class TransferStatsTests
{
    [Fact]
    public void Tick_BlocksBetweenTicks_RateIsTheirBytes()
    {
        var stats = new TransferStats();
        stats.Restore(uploaded: 500, downloaded: 1000, TimeSpan.Zero);
        stats.Tick([]);
        stats.BlockAccepted(16384);
        stats.BlockAccepted(100);
        stats.Tick([]);
        Assert.Equal(1000 + 16484, stats.Downloaded);
        Assert.Equal(16484, stats.DownloadRate);
        Assert.Equal(0, stats.UploadRate);
        Assert.Equal(500, stats.Uploaded([]));
        stats.Tick([]);
        Assert.Equal(0, stats.DownloadRate);
    }

    [Fact]
    public void CountSeeding_OnlyTicksWhileSeeding_AddUp()
    {
        var time = new FakeTimeProvider();
        var stats = new TransferStats();
        stats.Restore(0, 0, TimeSpan.FromMinutes(10));
        stats.CountSeeding(seeding: true, time.GetUtcNow()); // the first tick only starts the clock
        time.Advance(TimeSpan.FromSeconds(1));
        stats.CountSeeding(seeding: true, time.GetUtcNow());
        time.Advance(TimeSpan.FromSeconds(5));
        stats.CountSeeding(seeding: false, time.GetUtcNow());
        time.Advance(TimeSpan.FromSeconds(2));
        stats.CountSeeding(seeding: true, time.GetUtcNow());
        Assert.Equal(TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(3), stats.SeedTime);
    }
}
