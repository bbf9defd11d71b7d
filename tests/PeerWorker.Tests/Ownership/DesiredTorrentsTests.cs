using TorrentEdge.PeerWorker.Ownership;
using static TorrentEdge.PeerWorker.Tests.Support.TestTorrents;

namespace TorrentEdge.PeerWorker.Tests.Ownership;

public sealed class DesiredTorrentsTests
{
    [Fact]
    public void Apply_NewerRevision_Replaces()
    {
        var desired = new DesiredTorrents();
        desired.Assign([0]);

        Assert.True(desired.Apply(0, Spec(Hash(1), revision: 1)));
        Assert.True(desired.Apply(0, Spec(Hash(1), revision: 2, paused: true)));

        var spec = desired.Get(Hash(1));
        Assert.NotNull(spec);
        Assert.Equal(2, spec.Revision);
        Assert.True(spec.Paused);
    }

    [Fact]
    public void Apply_OlderOrSameRevision_IsIgnored()
    {
        var desired = new DesiredTorrents();
        desired.Assign([0]);
        desired.Apply(0, Spec(Hash(1), revision: 5, paused: true));

        Assert.False(desired.Apply(0, Spec(Hash(1), revision: 4)));
        Assert.False(desired.Apply(0, Spec(Hash(1), revision: 5)));

        Assert.True(desired.Get(Hash(1))!.Paused);
    }

    [Fact]
    public void Apply_RemovedThenOlderSpec_StaysRemoved()
    {
        var desired = new DesiredTorrents();
        desired.Assign([0]);
        desired.Apply(0, Spec(Hash(1), revision: 3, removed: true, deleteData: true));

        Assert.False(desired.Apply(0, Spec(Hash(1), revision: 2)));

        Assert.True(desired.Get(Hash(1))!.Removed);
        Assert.Equal(0, desired.ActiveCount);
    }

    [Fact]
    public void Apply_PartitionNotOwned_IsIgnored()
    {
        var desired = new DesiredTorrents();
        desired.Assign([0]);

        Assert.False(desired.Apply(3, Spec(Hash(1))));

        Assert.Null(desired.Get(Hash(1)));
    }

    [Fact]
    public void Apply_UpperCaseHash_IsNormalised()
    {
        var desired = new DesiredTorrents();
        desired.Assign([0]);

        desired.Apply(0, Spec("ABCDEF" + Hash(1)[6..]));

        Assert.NotNull(desired.Get("abcdef" + Hash(1)[6..]));
    }

    [Fact]
    public void Release_Partition_DropsOnlyItsTorrents()
    {
        var desired = new DesiredTorrents();
        desired.Assign([0, 1]);
        desired.Apply(0, Spec(Hash(1)));
        desired.Apply(1, Spec(Hash(2)));
        desired.Apply(1, Spec(Hash(3)));

        var dropped = desired.Release([1]);

        Assert.Equal([Hash(2), Hash(3)], dropped.Order());
        Assert.NotNull(desired.Get(Hash(1)));
        Assert.Null(desired.Get(Hash(2)));
        Assert.Equal([0], desired.OwnedPartitions);
    }

    [Fact]
    public void Assign_AgainAfterRelease_StartsEmptySoTheReplayFoldsFromScratch()
    {
        var desired = new DesiredTorrents();
        desired.Assign([0]);
        desired.Apply(0, Spec(Hash(1), revision: 7));
        desired.Release([0]);

        desired.Assign([0]);

        Assert.Null(desired.Get(Hash(1)));
        Assert.True(desired.Apply(0, Spec(Hash(1), revision: 1)));
    }
}
