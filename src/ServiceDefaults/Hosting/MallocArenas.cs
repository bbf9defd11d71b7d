using System.Runtime.InteropServices;

namespace TorrentEdge.ServiceDefaults.Hosting;

/// <summary>
/// Caps glibc's malloc arenas, as <c>MALLOC_ARENA_MAX=2</c> would, from inside the process, so the cap holds however
/// the service is started (the AppHost, a container image, a plain <c>dotnet run</c>).
/// </summary>
/// <remarks>
/// glibc gives threads that allocate at the same time arenas of their own, up to eight per core, each reserving
/// 64 MiB and keeping what it touched. librdkafka's broker threads, SQLite and the runtime allocate natively from
/// dozens of threads, so an idle service held 7-16 MiB more anonymous memory than with two arenas (measured:
/// docs/footprint.md). The arenas that exist when this runs stay; the cap applies to every later one, so it runs
/// first thing in <c>AddServiceDefaults</c>, before any Kafka client starts its threads. Where the variable is set,
/// glibc has applied it already and it is the operator's choice: nothing is changed.
/// </remarks>
public static partial class MallocArenas
{
    /// <summary>The environment variable glibc reads at start; when set, <see cref="Apply"/> leaves the process alone.</summary>
    public const string Variable = "MALLOC_ARENA_MAX";

    /// <summary>Two arenas: the main one and one for the threads that contend with it.</summary>
    public const int DefaultLimit = 2;

    // mallopt's parameter number for the arena cap (malloc.h).
    private const int MArenaMax = -8;

    private static int _applied;

    /// <summary>
    /// Caps the arenas at <paramref name="limit"/> unless <see cref="Variable"/> is set; once per process. Returns the
    /// cap applied, or null where nothing was changed (set by the variable, not Linux with glibc, or already applied).
    /// </summary>
    public static int? Apply(int limit = DefaultLimit) =>
        Interlocked.Exchange(ref _applied, 1) == 0 ? ApplyOnce(Environment.GetEnvironmentVariable(Variable), limit) : null;

    internal static int? ApplyOnce(string? variable, int limit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        if (!string.IsNullOrWhiteSpace(variable) || !OperatingSystem.IsLinux())
        {
            return null;
        }
        try
        {
            // glibc's soname; musl (Alpine) has no arenas to cap and no library by this name.
            return Mallopt(MArenaMax, limit) == 1 ? limit : null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [LibraryImport("libc.so.6", EntryPoint = "mallopt")]
    private static partial int Mallopt(int param, int value);
}
