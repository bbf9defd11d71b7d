using System.Net;
using TorrentEdge.Engine.Torrents;

namespace TorrentEdge.Engine.Tests.Torrents;

public sealed class PeerCandidatesTests
{
    private static IPEndPoint At(int port) => new(IPAddress.Parse("192.0.2.5"), port);

    [Fact]
    public void TryAdd_Full_EvictsMostFailedThenOldest()
    {
        var set = new PeerCandidates(3);
        Assert.True(set.TryAdd(At(1)));
        Assert.True(set.TryAdd(At(2)));
        Assert.True(set.TryAdd(At(3)));
        Assert.True(set.TryGet(At(2), out var failing));
        failing.Failures = 2;

        Assert.True(set.TryAdd(At(4)));
        Assert.False(set.Contains(At(2)));

        // No failures left to tell them apart: the oldest goes.
        Assert.True(set.TryAdd(At(5)));
        Assert.False(set.Contains(At(1)));
        Assert.Equal(3, set.Count);
    }

    [Fact]
    public void TryAdd_FullOfConnected_DropsTheNewOne()
    {
        var set = new PeerCandidates(2);
        set.TryAdd(At(1));
        set.TryAdd(At(2));
        foreach (var c in set.All) c.Connected = true;

        Assert.False(set.TryAdd(At(3)));
        Assert.Equal(2, set.Count);
        Assert.True(set.Contains(At(1)) && set.Contains(At(2)));
    }

    [Fact]
    public void TryAdd_Known_KeepsItsHistory()
    {
        var set = new PeerCandidates(5);
        set.TryAdd(At(1));
        set.TryGet(At(1), out var c);
        c.Failures = 4;

        Assert.False(set.TryAdd(At(1)));
        set.TryGet(At(1), out var again);
        Assert.Equal(4, again.Failures);
    }
}
