using TorrentEdge.Catalog.Model;
using TorrentEdge.Engine.Bencoding;
using TorrentEdge.Engine.Magnet;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Catalog.Infrastructure;

/// <summary>The engine's metainfo and magnet parsers, translated to what Catalog keeps.</summary>
internal sealed class EngineTorrentParser : ITorrentParser
{
    public ParsedTorrent ParseTorrent(ReadOnlySpan<byte> metainfo)
    {
        TorrentMetainfo parsed;
        try
        {
            parsed = TorrentMetainfo.Parse(metainfo);
        }
        catch (MetainfoException e) when (e.InnerException is BencodeException { Error: BencodeError.TooManyNodes } bencode)
        {
            throw new TorrentParseException(
                $"The file holds more bencoded values than a torrent of {metainfo.Length} bytes may ({BencodeReaderOptions.Default.NodeLimit(metainfo.Length)}).",
                bencode.Offset, malformed: true) { TooComplex = true };
        }
        catch (MetainfoException e) when (e.InnerException is BencodeException bencode)
        {
            throw new TorrentParseException($"Not valid bencoding: {bencode.Error}.", bencode.Offset, malformed: true);
        }
        catch (MetainfoException e)
        {
            throw new TorrentParseException(e.Message);
        }
        // Every file, padding included, so file indexes match the metainfo order workers use.
        var files = parsed.Files.Select(f => new TorrentFileEntry(f.Path, f.Length)).ToList();
        var trackers = parsed.AnnounceTiers.SelectMany(t => t).Distinct(StringComparer.Ordinal).ToList();
        return new ParsedTorrent(parsed.InfoHash.ToHex(), parsed.Name, parsed.TotalLength, files, trackers);
    }

    public ParsedMagnet ParseMagnet(string uri)
    {
        MagnetLink link;
        try
        {
            link = MagnetLink.Parse(uri);
        }
        catch (MetainfoException e)
        {
            throw new TorrentParseException(e.Message);
        }
        return new ParsedMagnet(link.InfoHash.ToHex(), link.DisplayName, link.Trackers);
    }
}
