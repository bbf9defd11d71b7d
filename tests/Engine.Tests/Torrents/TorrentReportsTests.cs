using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

/// <summary>The torrent's published snapshots alone: one status per batch, the piece bitfield copied only when it moved.</summary>
public sealed class TorrentReportsTests
{
    private static TorrentStatus Status(string name) => new() { InfoHash = default, Name = name, State = TorrentState.Queued };

    [Fact]
    public void TakeDirty_MarkedManyTimes_OneSnapshotDue()
    {
        var reports = new TorrentReports(Status("t"));
        Assert.False(reports.TakeDirty());
        reports.MarkDirty();
        reports.MarkDirty();
        Assert.True(reports.TakeDirty());
        Assert.False(reports.TakeDirty());
    }

    [Fact]
    public void Refresh_PieceBitfield_CopiedWhenTheCountMovesOrEvery30Ticks()
    {
        var reports = new TorrentReports(Status("t"));
        var have = new BitField(16);
        reports.Refresh([], 16, null);
        Assert.Null(reports.PieceBitfield);

        reports.Refresh([], 16, have);
        var first = reports.PieceBitfield;
        Assert.Equal(new byte[2], first);
        reports.Refresh([], 16, have);
        Assert.Same(first, reports.PieceBitfield);

        have[0] = true;
        reports.Refresh([], 16, have);
        Assert.Equal(new byte[] { 0x80, 0 }, reports.PieceBitfield);
        Assert.Equal(new byte[2], first); // a published copy never changes

        // Same count, different pieces (a recheck): caught within 30 ticks.
        have[0] = false;
        have[1] = true;
        var before = reports.PieceBitfield;
        for (var i = 0; i < 30; i++) reports.Refresh([], 16, have);
        Assert.NotSame(before, reports.PieceBitfield);
        Assert.Equal(new byte[] { 0x40, 0 }, reports.PieceBitfield);
        Assert.Empty(reports.PeerInfos);
    }

    [Fact]
    public void Publish_NewStatus_ReadersSeeIt()
    {
        var reports = new TorrentReports(Status("a"));
        reports.Publish(Status("b"));
        Assert.Equal("b", reports.Status.Name);
    }
}
