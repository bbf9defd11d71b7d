using TorrentEdge.Catalog.Model;

namespace TorrentEdge.Catalog.Infrastructure;

/// <summary>What Catalog needs from a metainfo parser: the seam between the API and the engine's parser.</summary>
internal interface ITorrentParser
{
    /// <summary>Parses and validates .torrent bytes; throws <see cref="TorrentParseException"/>.</summary>
    ParsedTorrent ParseTorrent(ReadOnlySpan<byte> metainfo);

    /// <summary>Parses a magnet URI; throws <see cref="TorrentParseException"/>.</summary>
    ParsedMagnet ParseMagnet(string uri);

    /// <summary>
    /// A .torrent of the same info dictionary (so the same info-hash) that names only <paramref name="trackers"/>: what one
    /// owner of a shared download gets back instead of another owner's upload (whose announce URLs may hold passkeys).
    /// </summary>
    byte[] WithTrackers(ReadOnlySpan<byte> metainfo, IReadOnlyList<string> trackers);
}

/// <summary>The facts Catalog keeps about a parsed .torrent.</summary>
/// <param name="IsPrivate">BEP 27: the info dictionary says <c>private=1</c> (peers only from its own trackers).</param>
internal sealed record ParsedTorrent(string InfoHash, string Name, long TotalBytes, IReadOnlyList<TorrentFileEntry> Files, IReadOnlyList<string> Trackers,
    bool IsPrivate = false);

/// <summary>The facts Catalog keeps about a parsed magnet URI.</summary>
internal sealed record ParsedMagnet(string InfoHash, string? Name, IReadOnlyList<string> Trackers);

/// <summary>Input that is not a valid torrent or magnet; <see cref="Offset"/> is where bencode parsing failed, when known.</summary>
internal sealed class TorrentParseException(string message, long? offset = null, bool malformed = false) : Exception(message)
{
    public long? Offset { get; } = offset;

    /// <summary>True when the bytes are not bencode at all, false when they are bencode but not a valid torrent.</summary>
    public bool Malformed { get; } = malformed;

    /// <summary>True when the decoder's node cap refused the file (a decoder bomb, or a torrent far denser than real ones).</summary>
    public bool TooComplex { get; init; }
}
