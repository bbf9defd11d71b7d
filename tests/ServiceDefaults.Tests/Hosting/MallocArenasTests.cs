using TorrentEdge.ServiceDefaults.Hosting;

namespace TorrentEdge.ServiceDefaults.Tests.Hosting;

/// <summary>The services cap glibc's malloc arenas themselves unless MALLOC_ARENA_MAX says otherwise (issue 22).</summary>
public sealed class MallocArenasTests
{
    [Fact]
    public void ApplyOnce_VariableUnsetOnLinux_GlibcAcceptsTheCap()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "glibc's arenas exist on Linux only");

        // mallopt answers 1 only when glibc took the value: a cap that was never set reads as null.
        Assert.Equal(MallocArenas.DefaultLimit, MallocArenas.ApplyOnce(variable: null, MallocArenas.DefaultLimit));
    }

    [Fact]
    public void ApplyOnce_VariableSet_LeavesTheOperatorsChoice()
    {
        Assert.Null(MallocArenas.ApplyOnce(variable: "8", MallocArenas.DefaultLimit));
    }

    [Fact]
    public void ApplyOnce_LimitBelowOne_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => MallocArenas.ApplyOnce(variable: null, 0));
    }
}
