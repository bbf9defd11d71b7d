using System.Reflection;
using System.Runtime.InteropServices;

namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>Chooses the librdkafka build that loads on this machine, once, for Confluent.Kafka and for our own P/Invokes.</summary>
/// <remarks>
/// librdkafka.redist's default linux-x64 build needs libsasl2.so.3, which Debian does not ship; the centos8 build beside it
/// has no such dependency. The default is preferred where it loads (production images may carry libsasl2), the centos8
/// build otherwise. Call <see cref="EnsureLoaded"/> before the first producer or consumer is built.
/// </remarks>
public static class KafkaNativeLibrary
{
    internal const string LibraryName = "librdkafka";

    private static readonly Lock Gate = new();
    private static string? _loadedPath;
    private static IntPtr _handle;

    /// <summary>The file that was loaded, or null where Confluent.Kafka's own resolution was left to do it (not linux-x64).</summary>
    public static string? LoadedPath
    {
        get
        {
            EnsureLoaded();
            return _loadedPath;
        }
    }

    /// <summary>Loads librdkafka once; later calls return at once.</summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_handle != IntPtr.Zero || _loadedPath is not null)
            {
                return;
            }

            foreach (var candidate in Candidates())
            {
                if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var handle))
                {
                    _handle = handle;
                    _loadedPath = candidate;
                    NativeLibrary.SetDllImportResolver(typeof(KafkaNativeLibrary).Assembly, Resolve);
                    // Confluent.Kafka's Library.Load dlopens through "libdl", which glibc 2.34+ ships only as libdl.so.2
                    // (the unversioned name comes with a -dev package); point it there.
                    TrySetResolver(typeof(Confluent.Kafka.Library).Assembly, ResolveForConfluent);
                    Confluent.Kafka.Library.Load(candidate);
                    return;
                }
            }

            // Elsewhere (Windows, macOS, musl) the package's own probing finds the right file.
            NativeLibrary.SetDllImportResolver(typeof(KafkaNativeLibrary).Assembly, Resolve);
            _loadedPath = string.Empty;
        }
    }

    private static IEnumerable<string> Candidates()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            yield break;
        }

        foreach (var baseDirectory in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(typeof(Confluent.Kafka.Library).Assembly.Location) ?? "" }
                     .Where(d => d.Length > 0).Distinct())
        {
            var native = Path.Combine(baseDirectory, "runtimes", "linux-x64", "native");
            yield return Path.Combine(native, "librdkafka.so");
            yield return Path.Combine(native, "centos8-librdkafka.so");
        }
    }

    private static void TrySetResolver(Assembly assembly, DllImportResolver resolver)
    {
        try
        {
            NativeLibrary.SetDllImportResolver(assembly, resolver);
        }
        catch (InvalidOperationException)
        {
            // Someone set one already; theirs stays.
        }
    }

    private static IntPtr ResolveForConfluent(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName == "libdl" && NativeLibrary.TryLoad("libdl.so.2", out var libdl))
        {
            return libdl;
        }
        return libraryName == LibraryName ? _handle : IntPtr.Zero;
    }

    private static IntPtr Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (libraryName != LibraryName)
        {
            return IntPtr.Zero;
        }
        if (_handle != IntPtr.Zero)
        {
            return _handle;
        }
        // Confluent.Kafka found the library itself; ask the loader for the same name it uses.
        foreach (var name in new[] { "librdkafka", "librdkafka.so.1", "librdkafka.dylib", "librdkafka.dll" })
        {
            if (NativeLibrary.TryLoad(name, assembly, searchPath, out var handle))
            {
                _handle = handle;
                return handle;
            }
        }
        return IntPtr.Zero;
    }
}
