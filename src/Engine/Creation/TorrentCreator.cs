using System.Buffers;
using System.Numerics;
using System.Security.Cryptography;
using TorrentEdge.Engine.Bencoding;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Creation;

/// <summary>What to put into a torrent made by <see cref="TorrentCreator"/>.</summary>
public sealed record TorrentCreatorOptions
{
    /// <summary>Piece length (a power of two, 16 KiB..256 MiB); null chooses one from the content size.</summary>
    public int? PieceLength { get; init; }

    /// <summary>Tracker tiers (BEP 12); the first URL also becomes "announce".</summary>
    public IReadOnlyList<IReadOnlyList<string>> AnnounceTiers { get; init; } = [];

    public bool IsPrivate { get; init; }

    public string? Comment { get; init; }

    public string CreatedBy { get; init; } = "TorrentEdge";

    /// <summary>Torrent name; defaults to the file or folder name.</summary>
    public string? Name { get; init; }

    /// <summary>Write "creation date" (taken from <see cref="TimeProvider"/>).</summary>
    public bool IncludeCreationDate { get; init; } = true;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

/// <summary>Makes v1 .torrent files from a file or a folder (files in ordinal path order, like mktorrent).</summary>
public static class TorrentCreator
{
    /// <summary>Creates the bencoded .torrent for <paramref name="path"/> (a file or a folder).</summary>
    public static async ValueTask<byte[]> CreateAsync(string path, TorrentCreatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new TorrentCreatorOptions();
        var full = Path.GetFullPath(path);
        var isDirectory = Directory.Exists(full);
        if (!isDirectory && !File.Exists(full)) throw new FileNotFoundException("Nothing to make a torrent of.", full);

        List<(string FullPath, string[] Segments, long Length)> files;
        if (isDirectory)
        {
            files = [.. Directory.EnumerateFiles(full, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0, IgnoreInaccessible = false })
                .Select(f => (FullPath: f, Relative: Path.GetRelativePath(full, f).Replace(Path.DirectorySeparatorChar, '/')))
                .OrderBy(f => f.Relative, StringComparer.Ordinal)
                .Select(f => (f.FullPath, f.Relative.Split('/'), new FileInfo(f.FullPath).Length))];
            if (files.Count == 0) throw new InvalidOperationException($"The folder '{full}' has no files.");
        }
        else
        {
            files = [(full, [Path.GetFileName(full)], new FileInfo(full).Length)];
        }

        var total = files.Sum(f => f.Length);
        if (total == 0) throw new InvalidOperationException("A torrent needs at least one byte of content.");
        var pieceLength = options.PieceLength ?? ChoosePieceLength(total);
        if (pieceLength < TorrentMetainfo.MinPieceLength || pieceLength > TorrentMetainfo.MaxPieceLength || !BitOperations.IsPow2(pieceLength))
        {
            throw new ArgumentException("The piece length must be a power of two between 16 KiB and 256 MiB.", nameof(options));
        }

        var pieces = await HashAsync(files.Select(f => f.FullPath).ToArray(), total, pieceLength, cancellationToken).ConfigureAwait(false);

        var name = options.Name ?? Path.GetFileName(Path.TrimEndingDirectorySeparator(full));
        var info = new BDictionary { { "name", new BString(name) }, { "piece length", new BInteger(pieceLength) }, { "pieces", new BString(pieces) } };
        if (isDirectory)
        {
            var list = new BList();
            foreach (var (_, segments, length) in files)
            {
                list.Add(new BDictionary { { "length", new BInteger(length) }, { "path", new BList(segments.Select(s => (BValue)new BString(s))) } });
            }

            info.Add("files", list);
        }
        else
        {
            info.Add("length", new BInteger(total));
        }

        if (options.IsPrivate) info.Add("private", new BInteger(1));

        var root = new BDictionary { { "info", info } };
        var tiers = options.AnnounceTiers.Where(t => t.Count > 0).ToArray();
        if (tiers.Length > 0)
        {
            root.Add("announce", new BString(tiers[0][0]));
            if (tiers.Length > 1 || tiers[0].Count > 1)
            {
                root.Add("announce-list", new BList(tiers.Select(t => (BValue)new BList(t.Select(u => (BValue)new BString(u))))));
            }
        }

        if (options.Comment is not null) root.Add("comment", new BString(options.Comment));
        root.Add("created by", new BString(options.CreatedBy));
        if (options.IncludeCreationDate) root.Add("creation date", new BInteger(options.TimeProvider.GetUtcNow().ToUnixTimeSeconds()));
        return root.Encode();
    }

    /// <summary>A power of two giving roughly 1,000-2,000 pieces, between 16 KiB and 16 MiB.</summary>
    public static int ChoosePieceLength(long totalLength)
    {
        var target = Math.Max(1, totalLength / 1500);
        var p = BitOperations.RoundUpToPowerOf2((ulong)target);
        return (int)Math.Clamp((long)p, TorrentMetainfo.MinPieceLength, 16L * 1024 * 1024);
    }

    /// <summary>SHA-1 of each piece over the files read as one stream (pieces may straddle files).</summary>
    private static async ValueTask<byte[]> HashAsync(string[] paths, long total, int pieceLength, CancellationToken cancellationToken)
    {
        var pieceCount = (int)((total + pieceLength - 1) / pieceLength);
        var hashes = new byte[pieceCount * 20];
        var buffer = ArrayPool<byte>.Shared.Rent(pieceLength);
        try
        {
            var filled = 0;
            var piece = 0;
            foreach (var path in paths)
            {
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.SequentialScan);
                long offset = 0;
                while (true)
                {
                    var n = await RandomAccess.ReadAsync(handle, buffer.AsMemory(filled, pieceLength - filled), offset, cancellationToken).ConfigureAwait(false);
                    if (n == 0) break;
                    offset += n;
                    filled += n;
                    if (filled == pieceLength)
                    {
                        if (piece == pieceCount) throw new IOException("A file changed size while it was being hashed.");
                        SHA1.HashData(buffer.AsSpan(0, pieceLength), hashes.AsSpan(piece++ * 20, 20));
                        filled = 0;
                    }
                }
            }

            if (filled > 0) SHA1.HashData(buffer.AsSpan(0, filled), hashes.AsSpan(piece++ * 20, 20));
            if (piece != pieceCount) throw new IOException("A file changed size while it was being hashed.");
            return hashes;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
