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

    [Theory]
    [InlineData("require,prefer,null", "Require")]   // one owner requires: nobody's wish makes it plaintext
    [InlineData("disable,disable", "Disable")]
    [InlineData("disable,null", null)]              // owners disagree: the worker's setting
    [InlineData("prefer,disable", null)]
    [InlineData("null", null)]
    public void MergedEncryption_OwnersWishes_RequireWinsElseOnlyWhenAllAgree(string wishes, string? expected)
    {
        var t = new TorrentEdge.Catalog.Model.CatalogTorrent { InfoHash = new string('a', 40) };
        var i = 0;
        foreach (var w in wishes.Split(','))
        {
            t.Owners.Add(new TorrentEdge.Catalog.Model.TorrentOwner($"u{i++}", DateTimeOffset.UnixEpoch)
            {
                Wishes = { Encryption = w == "null" ? null : Enum.Parse<PeerEncryption>(w, ignoreCase: true) },
            });
        }
        Assert.Equal(expected is null ? null : Enum.Parse<PeerEncryption>(expected), t.MergedEncryption());
        Assert.Equal(t.MergedEncryption(), t.ToSpec(includeMetainfo: false).Encryption);
    }

    [Fact]
    public void MergedEncryption_PausedOwnersWish_DoesNotDecideWhileAnotherRuns()
    {
        var t = new TorrentEdge.Catalog.Model.CatalogTorrent { InfoHash = new string('a', 40) };
        t.Owners.Add(new TorrentEdge.Catalog.Model.TorrentOwner("u1", DateTimeOffset.UnixEpoch) { Wishes = { Encryption = PeerEncryption.Require, Paused = true } });
        t.Owners.Add(new TorrentEdge.Catalog.Model.TorrentOwner("u2", DateTimeOffset.UnixEpoch) { Wishes = { Encryption = PeerEncryption.Disable } });
        Assert.Equal(PeerEncryption.Disable, t.MergedEncryption());
    }
}
