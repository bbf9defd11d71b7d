using System.Runtime.InteropServices;

namespace TorrentEdge.AppHost.Hosting;

/// <summary>The little of POSIX that .NET does not expose: sending SIGTERM to one process.</summary>
internal static partial class Posix
{
    public const int SIGTERM = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Asks a process to stop; false when it is gone already or the platform has no signals.</summary>
    public static bool Terminate(int pid)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return false;
        }
        return Kill(pid, SIGTERM) == 0;
    }
}
