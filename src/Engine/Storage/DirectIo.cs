using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace TorrentEdge.Engine.Storage;

/// <summary>
/// Writes that bypass the page cache (Linux <c>O_DIRECT</c>). A buffered write copies every byte into
/// freshly allocated page-cache pages; on the benchmark machine that copy was the largest single cost of a
/// download (0.4–0.9 CPU-seconds per GiB against 0.07 direct, benchmarks/README.md). Direct writes need the
/// file offset, the length and the memory address on <see cref="Alignment"/> boundaries; callers write the
/// unaligned edges through an ordinary handle.
/// </summary>
/// <remarks>
/// .NET has no open flag for it on Unix (<c>FileOptions</c> has no O_DIRECT), so a second handle is switched
/// with <c>fcntl(F_SETFL)</c>, which Linux allows for O_DIRECT, and written with <c>pwrite</c>.
/// </remarks>
internal static partial class DirectIo
{
    /// <summary>4 KiB: a multiple of every logical block size Linux file systems ask direct I/O to respect.</summary>
    public const int Alignment = 4096;

    private const int FGetFl = 3;
    private const int FSetFl = 4;
    private const int EIntr = 4;
    private const int EInval = 22;

    /// <summary>
    /// O_DIRECT differs between architectures; 0 where we do not know it (direct writes stay off). 64-bit only,
    /// where <c>off_t</c> is 64 bits and plain <c>pwrite</c> takes any offset (musl exports no <c>pwrite64</c>).
    /// </summary>
    private static readonly int ODirect = !OperatingSystem.IsLinux() ? 0 : RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 0x4000,
        Architecture.Arm64 => 0x10000,
        _ => 0,
    };

    public static bool IsSupported => ODirect != 0;

    /// <summary>Switches <paramref name="handle"/> to direct I/O; false where the file system refuses it (tmpfs, some FUSE).</summary>
    public static bool TryEnable(SafeFileHandle handle)
    {
        if (!IsSupported) return false;
        try
        {
            var flags = Fcntl(handle, FGetFl, 0);
            return flags >= 0 && Fcntl(handle, FSetFl, flags | ODirect) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false; // a libc without these names: ordinary writes
        }
    }

    /// <summary>
    /// Writes all of <paramref name="data"/> at <paramref name="fileOffset"/> on a direct handle.
    /// <see cref="DirectWrite.Misaligned"/>: the memory is not on a boundary (nothing written; copy it to an
    /// aligned buffer); <see cref="DirectWrite.Refused"/>: the kernel refused direct I/O here (EINVAL; write it
    /// buffered). Other errors throw.
    /// </summary>
    public static unsafe DirectWrite TryWrite(SafeFileHandle handle, ReadOnlySpan<byte> data, long fileOffset)
    {
        fixed (byte* start = data)
        {
            // Checked while pinned: the address cannot move between this test and the system call.
            if (!IsAligned((long)start)) return DirectWrite.Misaligned;
            var done = 0;
            for (var attempts = 0; done < data.Length; attempts++)
            {
                var n = PWrite(handle, start + done, (nuint)(data.Length - done), fileOffset + done);
                if (n > 0)
                {
                    done += (int)n;
                    continue;
                }
                var errno = Marshal.GetLastPInvokeError();
                if (n < 0 && errno == EIntr && attempts < 100) continue;
                if (n < 0 && errno == EInval && done == 0) return DirectWrite.Refused;
                throw new IOException(n == 0 ? "The disk accepted no more bytes (pwrite returned 0)."
                    : Marshal.GetPInvokeErrorMessage(errno), errno);
            }
        }
        return DirectWrite.Written;
    }

    public static bool IsAligned(long value) => (value & (Alignment - 1)) == 0;

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(SafeFileHandle fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    private static unsafe partial nint PWrite(SafeFileHandle fd, byte* buffer, nuint count, long offset);
}

internal enum DirectWrite
{
    Written,
    Misaligned,
    Refused,
}
