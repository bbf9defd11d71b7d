namespace TorrentEdge.Engine.PiecePicking;

/// <summary>Download priority of a file or piece; <see cref="Skip"/> is never requested.</summary>
public enum PiecePriority : byte
{
    Skip = 0,
    Low = 1,
    Normal = 4,
    High = 7,
}

/// <summary>Derives per-piece priorities from per-file priorities.</summary>
public static class PiecePriorities
{
    /// <summary>
    /// A piece gets the highest priority of the files it overlaps, so a piece shared by a skipped file and a
    /// wanted one is still downloaded. Zero-length files overlap nothing.
    /// </summary>
    /// <param name="files">Each file's offset in the torrent and length, in torrent order.</param>
    public static void FromFiles(ReadOnlySpan<(long Offset, long Length)> files, ReadOnlySpan<PiecePriority> filePriorities, int pieceLength, Span<PiecePriority> piecePriorities)
    {
        if (files.Length != filePriorities.Length) throw new ArgumentException("One priority per file.", nameof(filePriorities));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pieceLength);
        piecePriorities.Fill(PiecePriority.Skip);
        for (var f = 0; f < files.Length; f++)
        {
            var (offset, length) = files[f];
            if (length <= 0) continue;
            var first = (int)(offset / pieceLength);
            var last = (int)Math.Min((offset + length - 1) / pieceLength, piecePriorities.Length - 1);
            var priority = filePriorities[f];
            for (var p = first; p <= last; p++)
                if (priority > piecePriorities[p]) piecePriorities[p] = priority;
        }
    }
}
