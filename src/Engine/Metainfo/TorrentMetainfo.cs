using System.Globalization;
using System.Numerics;
using System.Text;
using TorrentEdge.Engine.Bencoding;

namespace TorrentEdge.Engine.Metainfo;

/// <summary>
/// A parsed, validated v1 torrent (BEP 3), or the v1 part of a hybrid v1+v2 torrent (BEP 52).
/// File paths are sanitised by <see cref="PathSanitizer"/>.
/// </summary>
public sealed class TorrentMetainfo
{
    public const int MinPieceLength = 16 * 1024;
    public const int MaxPieceLength = 256 * 1024 * 1024;

    // The outer dictionary is read without requiring sorted keys: some old makers wrote them unsorted,
    // and the info-hash only depends on the raw info bytes. Duplicates are still rejected.
    private static readonly BencodeReaderOptions OuterOptions = new() { RequireSortedKeys = false };

    private TorrentMetainfo()
    {
    }

    public InfoHash InfoHash { get; private init; }

    /// <summary>The exact bencoded info dictionary the info-hash was computed over (what ut_metadata serves).</summary>
    public ReadOnlyMemory<byte> InfoBytes { get; private init; }

    /// <summary>Sanitised torrent name: the file name (single file) or the root folder (multi-file).</summary>
    public string Name { get; private init; } = string.Empty;

    public int PieceLength { get; private init; }

    public int PieceCount { get; private init; }

    public long TotalLength { get; private init; }

    /// <summary>20-byte SHA-1 hashes, one per piece, concatenated.</summary>
    public ReadOnlyMemory<byte> PieceHashes { get; private init; }

    public IReadOnlyList<TorrentFile> Files { get; private init; } = [];

    /// <summary>True for a multi-file torrent (its files live under the <see cref="Name"/> folder).</summary>
    public bool IsMultiFile { get; private init; }

    /// <summary>Tracker URLs grouped in tiers (BEP 12); a lone "announce" is one tier.</summary>
    public IReadOnlyList<IReadOnlyList<string>> AnnounceTiers { get; private init; } = [];

    /// <summary>BEP 27: only the torrent's trackers may be used to find peers (no DHT, PEX, LSD).</summary>
    public bool IsPrivate { get; private init; }

    /// <summary>Where peers may come from: only trackers and direct peers when private (see <see cref="PeerSourcePolicy"/>).</summary>
    public PeerSources AllowedPeerSources => PeerSourcePolicy.Allowed(this);

    /// <summary>True when the info dictionary also carries a BEP 52 v2 part (loaded through its v1 part).</summary>
    public bool IsHybrid { get; private init; }

    public string? Comment { get; private init; }

    public string? CreatedBy { get; private init; }

    public DateTimeOffset? CreationDate { get; private init; }

    /// <summary>The piece's hash (20 bytes).</summary>
    public ReadOnlyMemory<byte> GetPieceHash(int index)
    {
        if ((uint)index >= (uint)PieceCount) throw new ArgumentOutOfRangeException(nameof(index));
        return PieceHashes.Slice(index * 20, 20);
    }

    /// <summary>Length of the piece: <see cref="PieceLength"/> except for a shorter last piece.</summary>
    public int GetPieceLength(int index)
    {
        if ((uint)index >= (uint)PieceCount) throw new ArgumentOutOfRangeException(nameof(index));
        if (index < PieceCount - 1) return PieceLength;
        var rest = TotalLength - ((long)index * PieceLength);
        return (int)rest;
    }

    /// <summary>Parses a .torrent file.</summary>
    /// <exception cref="MetainfoException">The file is malformed or invalid.</exception>
    public static TorrentMetainfo Parse(ReadOnlySpan<byte> torrent)
    {
        // Copied once so strings and InfoBytes can be slices of our own buffer.
        var buffer = torrent.ToArray();
        BDictionary root;
        try
        {
            root = BencodeReader.Decode(buffer, OuterOptions) as BDictionary
                ?? throw new MetainfoException("A torrent file must be a bencoded dictionary.");
        }
        catch (BencodeException e)
        {
            throw new MetainfoException($"The torrent file is not valid bencoding: {e.Error} at byte {e.Offset}.", e);
        }

        if (root.Get<BDictionary>("info") is not { } info) throw new MetainfoException("The torrent has no 'info' dictionary.");
        if (!AllCanonical(info))
        {
            // Our outer leniency must not let a non-canonical info dictionary through: peers would
            // disagree about its hash.
            throw new MetainfoException($"The info dictionary's keys are not sorted (byte {info.Offset}).");
        }

        var tiers = ReadTiers(root);
        var comment = TextOf(root, "comment.utf-8") ?? TextOf(root, "comment");
        var createdBy = TextOf(root, "created by");
        DateTimeOffset? created = null;
        if (root.Get<BInteger>("creation date") is { } cd && cd.Value is > 0 and < 253402300800)
        {
            created = DateTimeOffset.FromUnixTimeSeconds(cd.Value);
        }

        return FromInfo(info, info.Raw, tiers, comment, createdBy, created);
    }

    /// <summary>Builds metainfo from an info dictionary obtained from peers (BEP 9) and known trackers.</summary>
    /// <exception cref="MetainfoException">The dictionary is malformed or invalid.</exception>
    public static TorrentMetainfo FromInfoDictionary(ReadOnlyMemory<byte> infoBytes, IReadOnlyList<IReadOnlyList<string>> trackers)
    {
        ArgumentNullException.ThrowIfNull(trackers);
        var copy = infoBytes.ToArray();
        BDictionary info;
        try
        {
            info = BencodeReader.Decode(copy) as BDictionary ?? throw new MetainfoException("The info dictionary is not a dictionary.");
        }
        catch (BencodeException e)
        {
            throw new MetainfoException($"The info dictionary is not valid bencoding: {e.Error} at byte {e.Offset}.", e);
        }

        var tiers = trackers.Select(t => (IReadOnlyList<string>)t.Where(u => !string.IsNullOrWhiteSpace(u)).ToArray())
            .Where(t => t.Count > 0).ToArray();
        return FromInfo(info, copy, tiers, null, null, null);
    }

    private static TorrentMetainfo FromInfo(
        BDictionary info,
        ReadOnlyMemory<byte> infoBytes,
        IReadOnlyList<IReadOnlyList<string>> tiers,
        string? comment,
        string? createdBy,
        DateTimeOffset? created)
    {
        var metaVersion = info.Get<BInteger>("meta version")?.Value;
        var pieces = info.Get<BString>("pieces");
        if (pieces is null)
        {
            throw new MetainfoException(metaVersion == 2
                ? "v2-only torrents are not supported (no v1 'pieces')."
                : "The info dictionary has no 'pieces'.");
        }

        var isHybrid = metaVersion == 2 || info.ContainsKey("file tree");

        var rawName = TextOf(info, "name.utf-8") ?? TextOf(info, "name") ?? throw new MetainfoException("The info dictionary has no 'name'.");
        var name = PathSanitizer.SanitizeSegment(rawName);

        if (info.Get<BInteger>("piece length") is not { } plv) throw new MetainfoException("The info dictionary has no 'piece length'.");
        var pl = plv.Value;
        if (pl < MinPieceLength || pl > MaxPieceLength || !BitOperations.IsPow2(pl))
        {
            throw new MetainfoException($"Piece length {pl} is not a power of two between {MinPieceLength} and {MaxPieceLength}.");
        }

        var pieceLength = (int)pl;
        if (pieces.Length % 20 != 0) throw new MetainfoException($"'pieces' has {pieces.Length} bytes, not a multiple of 20.");

        var files = new List<TorrentFile>();
        long total = 0;
        var isMulti = false;
        if (info.Get<BList>("files") is { } list)
        {
            isMulti = true;
            if (list.Count == 0) throw new MetainfoException("The torrent has an empty 'files' list.");
            var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            var nextSuffix = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < list.Count; i++)
            {
                if (list[i] is not BDictionary f) throw new MetainfoException($"File {i} is not a dictionary.");
                var length = ReadLength(f, $"File {i}");
                var pathList = f.Get<BList>("path.utf-8") ?? f.Get<BList>("path") ?? throw new MetainfoException($"File {i} has no 'path'.");
                var raw = new List<string>(pathList.Count);
                foreach (var seg in pathList)
                {
                    if (seg is not BString s) throw new MetainfoException($"File {i} has a path segment that is not a string.");
                    raw.Add(s.Text);
                }

                var isPadding = f.Get<BString>("attr") is { } attr && attr.Span.Contains((byte)'p');
                var segments = new List<string>(raw.Count + 1) { name };
                segments.AddRange(PathSanitizer.SanitizeSegments(raw));
                MakeUnique(segments, used, nextSuffix);
                files.Add(new TorrentFile(string.Join('/', segments), segments, length, total, isPadding));
                total = AddLength(total, length);
            }
        }
        else
        {
            var length = ReadLength(info, "The single file");
            files.Add(new TorrentFile(name, [name], length, 0, false));
            total = length;
        }

        if (total == 0) throw new MetainfoException("The torrent contains no data (total length 0).");
        var expectedPieces = (total + pieceLength - 1) / pieceLength;
        var pieceCount = pieces.Length / 20;
        if (expectedPieces != pieceCount)
        {
            throw new MetainfoException($"'pieces' holds {pieceCount} hashes but {total} bytes in pieces of {pieceLength} need {expectedPieces}.");
        }

        var isPrivate = info.Get<BInteger>("private")?.Value == 1;

        return new TorrentMetainfo
        {
            InfoHash = InfoHash.Compute(infoBytes.Span),
            InfoBytes = infoBytes,
            Name = name,
            PieceLength = pieceLength,
            PieceCount = pieceCount,
            TotalLength = total,
            PieceHashes = pieces.Bytes,
            Files = files,
            IsMultiFile = isMulti,
            AnnounceTiers = tiers,
            IsPrivate = isPrivate,
            IsHybrid = isHybrid,
            Comment = comment,
            CreatedBy = createdBy,
            CreationDate = created,
        };
    }

    private static long ReadLength(BDictionary d, string what)
    {
        if (d.Get<BInteger>("length") is not { } l) throw new MetainfoException($"{what} has no 'length'.");
        if (l.Value < 0) throw new MetainfoException($"{what} has a negative length ({l.Value}).");
        return l.Value;
    }

    private static long AddLength(long total, long length)
    {
        // Bounded well below long.MaxValue so piece arithmetic (index * pieceLength) cannot overflow.
        if (length > (1L << 52) - total) throw new MetainfoException("The torrent's total length is too large.");
        return total + length;
    }

    /// <summary>Two files must not map to one path (also case-insensitively, for Windows and macOS).</summary>
    private static void MakeUnique(List<string> segments, HashSet<string> used, Dictionary<string, int> nextSuffix)
    {
        var path = string.Join('/', segments);
        if (used.Add(path)) return;
        var last = segments[^1];
        var ext = Path.GetExtension(last);
        // A long "extension" is part of the name: the suffix goes before a short one only.
        if (ext.Length > 16) ext = string.Empty;
        var stem = last[..^ext.Length];
        // Copies of one path resume counting where the previous copy stopped: counting from 1 each time made n copies
        // cost n² tries (2,400 files named "a" allocated 900 MB).
        for (var n = nextSuffix.GetValueOrDefault(path, 1); ; n++)
        {
            // The stem makes room for the suffix: at the length limit, shortening used to cut the suffix off again, so
            // every try gave back the taken name and the loop never ended.
            var suffix = string.Create(CultureInfo.InvariantCulture, $"_{n}{ext}");
            segments[^1] = PathSanitizer.SanitizeSegment(PathSanitizer.TruncateUtf8(stem, PathSanitizer.MaxSegmentBytes - Encoding.UTF8.GetByteCount(suffix)) + suffix);
            if (used.Add(string.Join('/', segments)))
            {
                nextSuffix[path] = n + 1;
                return;
            }
        }
    }

    private static IReadOnlyList<IReadOnlyList<string>> ReadTiers(BDictionary root)
    {
        var tiers = new List<IReadOnlyList<string>>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        if (root.Get<BList>("announce-list") is { } al)
        {
            foreach (var tier in al)
            {
                if (tier is not BList urls) continue;
                var t = new List<string>();
                foreach (var u in urls)
                {
                    if (u is BString s && IsTrackerUrl(s.Text) && seen.Add(s.Text)) t.Add(s.Text);
                }

                if (t.Count > 0) tiers.Add(t);
            }
        }

        // BEP 12: when announce-list is present, announce is ignored.
        if (tiers.Count == 0 && TextOf(root, "announce") is { } announce && IsTrackerUrl(announce))
        {
            tiers.Add([announce]);
        }

        return tiers;
    }

    private static bool IsTrackerUrl(string url)
        => Uri.TryCreate(url.Trim(), UriKind.Absolute, out var u) && u.Scheme is "http" or "https" or "udp";

    private static bool AllCanonical(BValue v) => v switch
    {
        BDictionary d => d.WasCanonicalInInput && d.All(e => AllCanonical(e.Value)),
        BList l => l.All(AllCanonical),
        _ => true,
    };

    private static string? TextOf(BDictionary d, string key) => d.Get<BString>(key)?.Text;
}
