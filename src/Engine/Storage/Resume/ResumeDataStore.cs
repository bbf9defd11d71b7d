using System.Runtime.InteropServices;
using System.Text.Json;

namespace TorrentEdge.Engine.Storage.Resume;

/// <summary>
/// Keeps one resume file per torrent in a directory. Saves are atomic (temp file in the same
/// directory, flushed to disk, renamed over the old one, directory synced), so a crash leaves
/// either the old or the new file; loads never throw for bad content.
/// </summary>
public sealed partial class ResumeDataStore
{
    private const string Extension = ".resume";
    private const string TempSuffix = ".tmp";
    private const int MaxFileBytes = 64 * 1024 * 1024;

    public ResumeDataStore(string directory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
    }

    public string Directory { get; }

    /// <summary>Path of the resume file for <paramref name="infoHash"/> (40 hex digits).</summary>
    public string GetPath(string infoHash) => Path.Combine(Directory, Normalise(infoHash) + Extension);

    /// <summary>Writes <paramref name="data"/> atomically, replacing any earlier save of the same torrent.</summary>
    public async ValueTask SaveAsync(ResumeData data, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(data);
        var path = GetPath(data.InfoHash);
        System.IO.Directory.CreateDirectory(Directory);
        var bytes = JsonSerializer.SerializeToUtf8Bytes(data, ResumeJsonContext.Default.ResumeData);
        var temp = path + "." + Guid.NewGuid().ToString("N") + TempSuffix;
        try
        {
            await using (var stream = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                Options = FileOptions.Asynchronous,
            }))
            {
                await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
        // Makes the rename itself durable; without it a power cut may bring back the old file.
        DirectorySync.TryFlush(Directory);
    }

    /// <summary>
    /// Loads the resume data of <paramref name="infoHash"/>: <see cref="ResumeLoadResult.Data"/> is null
    /// when there is none or it is unusable (then <see cref="ResumeLoadResult.Error"/> says why).
    /// </summary>
    public async ValueTask<ResumeLoadResult> LoadAsync(string infoHash, CancellationToken cancellationToken)
    {
        string path;
        try
        {
            path = GetPath(infoHash);
        }
        catch (ArgumentException e)
        {
            return ResumeLoadResult.Failed(e.Message);
        }

        byte[] bytes;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists) return ResumeLoadResult.Missing;
            if (info.Length > MaxFileBytes) return ResumeLoadResult.Failed($"Resume file is too large ({info.Length} bytes).");
            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return ResumeLoadResult.Missing;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return ResumeLoadResult.Failed($"Cannot read resume file: {e.Message}");
        }

        ResumeData? data;
        try
        {
            data = JsonSerializer.Deserialize(bytes, ResumeJsonContext.Default.ResumeData);
        }
        catch (JsonException e)
        {
            return ResumeLoadResult.Failed($"Corrupt resume file: {e.Message}");
        }

        if (data is null) return ResumeLoadResult.Failed("Resume file is empty.");
        if (data.Version > ResumeData.CurrentVersion || data.Version < 1)
            return ResumeLoadResult.Failed($"Unsupported resume format version {data.Version}.");
        if (!string.Equals(data.InfoHash, Normalise(infoHash), StringComparison.Ordinal))
            return ResumeLoadResult.Failed($"Resume file belongs to {data.InfoHash}.");
        if (data.Files is null || data.Bitfield is null || data.GetBitField() is null)
            return ResumeLoadResult.Failed("Resume file has an invalid bitfield or file list.");
        for (var i = 0; i < data.Files.Count; i++)
            if (data.Files[i] is null) return ResumeLoadResult.Failed("Resume file has an invalid file list.");
        return new ResumeLoadResult(data, null);
    }

    /// <summary>Info-hashes (lower-case hex) that have a resume file; temporary files are ignored.</summary>
    public IReadOnlyList<string> ListInfoHashes()
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        var result = new List<string>();
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            if (path.EndsWith(Extension, StringComparison.Ordinal) && IsHex40(name)) result.Add(name.ToLowerInvariant());
        }
        result.Sort(StringComparer.Ordinal);
        return result;
    }

    /// <summary>Removes the resume file of <paramref name="infoHash"/> if there is one.</summary>
    public void Delete(string infoHash)
    {
        var path = GetPath(infoHash);
        try
        {
            File.Delete(path);
        }
        catch (DirectoryNotFoundException)
        {
            // No directory, no resume file.
        }
    }

    /// <summary>Deletes temporary files left by saves interrupted by a crash; returns how many.</summary>
    public int DeleteLeftoverTemporaryFiles()
    {
        if (!System.IO.Directory.Exists(Directory)) return 0;
        var count = 0;
        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension + ".*" + TempSuffix))
            if (TryDelete(path)) count++;
        return count;
    }

    private static string Normalise(string infoHash)
    {
        if (!IsHex40(infoHash)) throw new ArgumentException($"'{infoHash}' is not a 40-digit hex info-hash.", nameof(infoHash));
        return infoHash.ToLowerInvariant();
    }

    private static bool IsHex40(string? value) => value is { Length: 40 } && IsHex(value);

    private static bool IsHex(string value)
    {
        foreach (var c in value)
            if (!char.IsAsciiHexDigit(c)) return false;
        return true;
    }

    private static bool TryDelete(string path)
    {
        try
        {
            File.Delete(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static partial class DirectorySync
    {
        [LibraryImport("libc.so.6", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        private static partial int Open(string path, int flags);

        [LibraryImport("libc.so.6", EntryPoint = "fsync", SetLastError = true)]
        private static partial int Fsync(int fd);

        [LibraryImport("libc.so.6", EntryPoint = "close")]
        private static partial int Close(int fd);

        public static void TryFlush(string directory)
        {
            if (!OperatingSystem.IsLinux()) return;
            try
            {
                var fd = Open(directory, 0 /* O_RDONLY */);
                if (fd < 0) return;
                try
                {
                    Fsync(fd);
                }
                finally
                {
                    Close(fd);
                }
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                // Not glibc: the rename is still atomic, only its durability on power loss is weaker.
            }
        }
    }
}

/// <summary>The outcome of loading resume data: the data, or null with a reason (no reason when simply missing).</summary>
public readonly record struct ResumeLoadResult(ResumeData? Data, string? Error)
{
    public static ResumeLoadResult Missing => new(null, null);

    public static ResumeLoadResult Failed(string error) => new(null, error);
}
