namespace TorrentEdge.Engine.Metainfo;

/// <summary>
/// One file of a torrent. <paramref name="Path"/> is relative to the download folder, sanitised and
/// '/'-separated; for multi-file torrents it starts with the torrent's (sanitised) name folder.
/// <paramref name="PathSegments"/> are the same segments. <paramref name="Offset"/> is where the file
/// starts in the torrent's byte stream. Padding files (BEP 47 attr 'p') are never written to disk.
/// </summary>
public sealed record TorrentFile(string Path, IReadOnlyList<string> PathSegments, long Length, long Offset, bool IsPadding);
