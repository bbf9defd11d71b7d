using System.Security.Cryptography;
using System.Text;
using TorrentEdge.Catalog.Model;

namespace TorrentEdge.Catalog.Infrastructure;

/// <summary>A small bencode/metainfo parser used until the engine's parser is referenced.</summary>
internal sealed class MinimalTorrentParser : ITorrentParser
{
    private const int MaxDepth = 64;

    public ParsedTorrent ParseTorrent(ReadOnlySpan<byte> metainfo)
    {
        var position = 0;
        var infoStart = -1;
        var infoEnd = -1;
        var root = ReadValue(metainfo, ref position, 0, ref infoStart, ref infoEnd);
        if (position != metainfo.Length)
        {
            throw new TorrentParseException("Trailing bytes after the root value.", position, malformed: true);
        }
        if (root is not Dictionary<string, object> dict)
        {
            throw new TorrentParseException("The root value is not a dictionary.");
        }
        if (!dict.TryGetValue("info", out var infoValue) || infoValue is not Dictionary<string, object> info)
        {
            throw new TorrentParseException("The 'info' dictionary is missing.");
        }
        if (!info.TryGetValue("name", out var nameValue) || nameValue is not byte[] nameBytes || nameBytes.Length == 0)
        {
            throw new TorrentParseException("info.name is missing.");
        }
        if (!info.TryGetValue("piece length", out var pl) || pl is not long pieceLength || pieceLength <= 0)
        {
            throw new TorrentParseException("info.piece length is missing or not positive.");
        }
        if (!info.TryGetValue("pieces", out var pv) || pv is not byte[] pieces || pieces.Length == 0 || pieces.Length % 20 != 0)
        {
            throw new TorrentParseException("info.pieces is missing or not a multiple of 20 bytes.");
        }
        var name = Encoding.UTF8.GetString(nameBytes);
        var files = new List<TorrentFileEntry>();
        if (info.TryGetValue("length", out var lengthValue))
        {
            if (lengthValue is not long length || length < 0)
            {
                throw new TorrentParseException("info.length is not a non-negative integer.");
            }
            files.Add(new TorrentFileEntry(name, length));
        }
        else if (info.TryGetValue("files", out var filesValue) && filesValue is List<object> list && list.Count > 0)
        {
            foreach (var item in list)
            {
                if (item is not Dictionary<string, object> file || !file.TryGetValue("length", out var fl) || fl is not long fileLength || fileLength < 0
                    || !file.TryGetValue("path", out var fp) || fp is not List<object> segments || segments.Count == 0
                    || segments.Exists(s => s is not byte[] b || b.Length == 0 || Encoding.UTF8.GetString(b) is "." or ".."))
                {
                    throw new TorrentParseException("An entry of info.files is invalid.");
                }
                files.Add(new TorrentFileEntry(string.Join('/', segments.Select(s => Encoding.UTF8.GetString((byte[])s))), fileLength));
            }
        }
        else
        {
            throw new TorrentParseException("info has neither 'length' nor 'files'.");
        }
        var total = files.Sum(f => f.Length);
        var expectedPieces = (total + pieceLength - 1) / pieceLength;
        if (pieces.Length / 20 != expectedPieces)
        {
            throw new TorrentParseException($"info.pieces holds {pieces.Length / 20} hashes but the files need {expectedPieces}.");
        }
        var trackers = new List<string>();
        if (dict.TryGetValue("announce", out var announce) && announce is byte[] a)
        {
            trackers.Add(Encoding.UTF8.GetString(a));
        }
        if (dict.TryGetValue("announce-list", out var al) && al is List<object> tiers)
        {
            foreach (var tier in tiers.OfType<List<object>>())
            {
                foreach (var url in tier.OfType<byte[]>().Select(b => Encoding.UTF8.GetString(b)))
                {
                    if (!trackers.Contains(url))
                    {
                        trackers.Add(url);
                    }
                }
            }
        }
        var hash = Convert.ToHexStringLower(SHA1.HashData(metainfo[infoStart..infoEnd]));
        return new ParsedTorrent(hash, name, total, files, trackers);
    }

    private static object ReadValue(ReadOnlySpan<byte> data, ref int position, int depth, ref int infoStart, ref int infoEnd)
    {
        if (depth > MaxDepth)
        {
            throw new TorrentParseException("Nesting is too deep.", position, malformed: true);
        }
        if (position >= data.Length)
        {
            throw new TorrentParseException("Unexpected end of data.", position, malformed: true);
        }
        switch (data[position])
        {
            case (byte)'i':
            {
                var end = data[position..].IndexOf((byte)'e');
                if (end < 0 || !long.TryParse(data.Slice(position + 1, end - 1), out var value))
                {
                    throw new TorrentParseException("Invalid integer.", position, malformed: true);
                }
                position += end + 1;
                return value;
            }
            case (byte)'l':
            {
                position++;
                var list = new List<object>();
                while (position < data.Length && data[position] != (byte)'e')
                {
                    list.Add(ReadValue(data, ref position, depth + 1, ref infoStart, ref infoEnd));
                }
                Expect(data, ref position);
                return list;
            }
            case (byte)'d':
            {
                position++;
                var dict = new Dictionary<string, object>(StringComparer.Ordinal);
                while (position < data.Length && data[position] != (byte)'e')
                {
                    var keyAt = position;
                    if (ReadValue(data, ref position, depth + 1, ref infoStart, ref infoEnd) is not byte[] key)
                    {
                        throw new TorrentParseException("A dictionary key is not a string.", keyAt, malformed: true);
                    }
                    var keyText = Encoding.UTF8.GetString(key);
                    var valueStart = position;
                    var value = ReadValue(data, ref position, depth + 1, ref infoStart, ref infoEnd);
                    if (depth == 0 && keyText == "info")
                    {
                        infoStart = valueStart;
                        infoEnd = position;
                    }
                    dict[keyText] = value;
                }
                Expect(data, ref position);
                return dict;
            }
            case >= (byte)'0' and <= (byte)'9':
            {
                var colon = data[position..].IndexOf((byte)':');
                if (colon < 0 || !int.TryParse(data.Slice(position, colon), out var length) || length < 0
                    || position + colon + 1 + length > data.Length)
                {
                    throw new TorrentParseException("Invalid string length.", position, malformed: true);
                }
                var bytes = data.Slice(position + colon + 1, length).ToArray();
                position += colon + 1 + length;
                return bytes;
            }
            default:
                throw new TorrentParseException($"Unexpected byte 0x{data[position]:x2}.", position, malformed: true);
        }
    }

    private static void Expect(ReadOnlySpan<byte> data, ref int position)
    {
        if (position >= data.Length)
        {
            throw new TorrentParseException("Unexpected end of data.", position, malformed: true);
        }
        position++;
    }

    public ParsedMagnet ParseMagnet(string uri)
    {
        if (!uri.StartsWith("magnet:?", StringComparison.OrdinalIgnoreCase))
        {
            throw new TorrentParseException("A magnet URI starts with 'magnet:?'.");
        }
        string? hash = null;
        string? name = null;
        var trackers = new List<string>();
        foreach (var part in uri["magnet:?".Length..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0)
            {
                continue;
            }
            var key = part[..eq];
            var value = Uri.UnescapeDataString(part[(eq + 1)..].Replace('+', ' '));
            if (key == "xt" && value.StartsWith("urn:btih:", StringComparison.OrdinalIgnoreCase))
            {
                hash = NormalizeHash(value["urn:btih:".Length..]);
            }
            else if (key == "dn")
            {
                name = value;
            }
            else if (key == "tr")
            {
                trackers.Add(value);
            }
        }
        return new ParsedMagnet(hash ?? throw new TorrentParseException("The magnet URI has no 'xt=urn:btih:' info-hash."), name, trackers);
    }

    private static string NormalizeHash(string value)
    {
        if (value.Length == 40 && value.All(char.IsAsciiHexDigit))
        {
            return value.ToLowerInvariant();
        }
        if (value.Length == 32)
        {
            const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
            var bytes = new byte[20];
            int buffer = 0, bits = 0, index = 0;
            foreach (var c in value.ToUpperInvariant())
            {
                var v = alphabet.IndexOf(c, StringComparison.Ordinal);
                if (v < 0)
                {
                    throw new TorrentParseException("The info-hash is not valid base32.");
                }
                buffer = (buffer << 5) | v;
                bits += 5;
                if (bits >= 8)
                {
                    bytes[index++] = (byte)(buffer >> (bits - 8));
                    bits -= 8;
                }
            }
            return Convert.ToHexStringLower(bytes);
        }
        throw new TorrentParseException("The info-hash is neither 40 hex nor 32 base32 characters.");
    }
}
