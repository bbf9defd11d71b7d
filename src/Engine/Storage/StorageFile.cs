namespace TorrentEdge.Engine.Storage;

/// <summary>
/// One file of a torrent as storage sees it: a '/'-separated path relative to the root and its length.
/// Padding files (BEP 47) are never created: writes to them are dropped and reads give zeros.
/// </summary>
public sealed record StorageFile(string RelativePath, long Length, bool IsPadding = false);

/// <summary>A run of bytes inside one file that a torrent byte range maps to.</summary>
/// <param name="FileIndex">Index into <see cref="StorageLayout.Files"/>.</param>
/// <param name="FileOffset">Offset inside that file.</param>
/// <param name="Length">Number of bytes in this segment (never zero).</param>
/// <param name="BufferOffset">Offset of this segment inside the caller's buffer.</param>
public readonly record struct FileSegment(int FileIndex, long FileOffset, int Length, int BufferOffset);
