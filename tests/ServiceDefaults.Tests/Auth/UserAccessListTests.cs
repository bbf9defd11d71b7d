using Microsoft.Extensions.Time.Testing;
using TorrentEdge.Contracts.Users;
using TorrentEdge.ServiceDefaults.Auth;

namespace TorrentEdge.ServiceDefaults.Tests.Auth;

/// <summary>How the list folds torrent-users records, and what it says about a token's user.</summary>
public sealed class UserAccessListTests
{
    private readonly FakeTimeProvider _time = new();

    private UserAccessList CaughtUpList()
    {
        var list = new UserAccessList(_time, TimeSpan.FromSeconds(10));
        list.MarkCaughtUp();
        return list;
    }

    [Fact]
    public void Check_UserDisabledThenEnabled_RefusedThenAccepted()
    {
        var list = CaughtUpList();

        list.Apply(new UserAccessChanged("u1", Disabled: true, "user", 1));
        Assert.Equal(UserAccessVerdict.Disabled, list.Check("u1", "user"));

        list.Apply(new UserAccessChanged("u1", Disabled: false, "user", 2));
        Assert.Equal(UserAccessVerdict.Accepted, list.Check("u1", "user"));
    }

    [Fact]
    public void Apply_OlderVersionAfterNewer_Ignored()
    {
        var list = CaughtUpList();

        Assert.NotNull(list.Apply(new UserAccessChanged("u1", Disabled: true, "user", 5)));
        Assert.Null(list.Apply(new UserAccessChanged("u1", Disabled: false, "user", 4)));

        Assert.Equal(UserAccessVerdict.Disabled, list.Check("u1", "user"));
        Assert.Equal(5, list.Find("u1")!.Version);
    }

    [Fact]
    public void Apply_SameStatusAgain_ReportsNoChange()
    {
        var list = CaughtUpList();

        Assert.NotNull(list.Apply(new UserAccessChanged("u1", Disabled: true, "user", 1)));
        // Catalog republishes every account at its start: the same status must not tell the listeners again.
        Assert.Null(list.Apply(new UserAccessChanged("u1", Disabled: true, "user", 2)));
        Assert.Equal(2, list.Find("u1")!.Version);
    }

    [Fact]
    public void Check_RoleChanged_TokenOfTheOldRoleRefused()
    {
        var list = CaughtUpList();

        list.Apply(new UserAccessChanged("u1", Disabled: false, "user", 1));

        Assert.Equal(UserAccessVerdict.RoleChanged, list.Check("u1", "admin"));
        Assert.Equal(UserAccessVerdict.Accepted, list.Check("u1", "user"));
    }

    [Fact]
    public void Check_UnknownUser_Accepted()
        => Assert.Equal(UserAccessVerdict.Accepted, CaughtUpList().Check("never-published", "user"));

    [Fact]
    public void Check_NotCaughtUp_OpenDuringTheGraceThenClosed()
    {
        var list = new UserAccessList(_time, TimeSpan.FromSeconds(10));
        list.Apply(new UserAccessChanged("u1", Disabled: true, "user", 1));

        _time.Advance(TimeSpan.FromSeconds(9));
        // Within the grace what is already read still counts; the rest is accepted.
        Assert.Equal(UserAccessVerdict.Disabled, list.Check("u1", "user"));
        Assert.Equal(UserAccessVerdict.Accepted, list.Check("u2", "user"));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(UserAccessVerdict.NotCaughtUp, list.Check("u2", "user"));

        list.MarkCaughtUp();
        Assert.Equal(UserAccessVerdict.Accepted, list.Check("u2", "user"));
    }
}
