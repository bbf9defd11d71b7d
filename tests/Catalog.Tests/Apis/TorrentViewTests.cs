using TorrentEdge.Catalog.Apis;
using TorrentEdge.Catalog.Model;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.Tests.Apis;

public sealed class TorrentViewTests
{
    [Fact]
    public void From_StatusReportedByAReplica_ShowsWhichReplicaRunsIt()
    {
        var torrent = new CatalogTorrent
        {
            InfoHash = new string('a', 40),
            Name = "x",
            TotalBytes = 10,
            Status = new TorrentStatus { State = TorrentState.Downloading, Progress = 0.5, DownloadedBytes = 5, WorkerId = "peerworker-1" },
        };

        var view = TorrentView.From(torrent, showOwners: false);

        Assert.Equal("peerworker-1", view.WorkerId);
        Assert.Equal(5, view.DownloadedBytes);
    }

    [Fact]
    public void From_NoStatusYet_NoReplica()
    {
        var view = TorrentView.From(new CatalogTorrent { InfoHash = new string('b', 40) }, showOwners: false);

        Assert.Null(view.WorkerId);
    }
}
