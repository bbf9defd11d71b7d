using System.Buffers;
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
        return new ParsedTorrent(parsed.InfoHash.ToHex(), parsed.Name, parsed.TotalLength, files, trackers, parsed.IsPrivate);
    }

    public byte[] WithTrackers(ReadOnlySpan<byte> metainfo, IReadOnlyList<string> trackers)
    {
        var info = TorrentMetainfo.Parse(metainfo).InfoBytes.Span;
        var output = new ArrayBufferWriter<byte>(info.Length + 256);
        output.Write("d"u8);
        // Keys in sorted order, as bencoding requires; one tracker per tier, in the owner's order.
        if (trackers.Count > 0)
        {
            BencodeWriter.WriteString(output, "announce");
            BencodeWriter.WriteString(output, trackers[0]);
            BencodeWriter.WriteString(output, "announce-list");
            output.Write("l"u8);
            foreach (var url in trackers)
            {
                output.Write("l"u8);
                BencodeWriter.WriteString(output, url);
                output.Write("e"u8);
            }
            output.Write("e"u8);
        }
        BencodeWriter.WriteString(output, "info");
        output.Write(info);
        output.Write("e"u8);
        return output.WrittenSpan.ToArray();
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
