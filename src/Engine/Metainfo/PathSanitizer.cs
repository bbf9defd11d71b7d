using System.Text;

namespace TorrentEdge.Engine.Metainfo;

/// <summary>
/// Turns names from a torrent into path segments that are safe on Linux and Windows and can never
/// leave the download folder.
/// </summary>
/// <remarks>
/// We sanitise rather than reject, so that a torrent whose names are all hostile still loads with
/// harmless names (it is the data that matters, not the names). Per segment:
/// control characters (below U+0020 and U+007F), '/', '\', and the characters Windows forbids
/// (&lt; &gt; : " | ? *) become '_'; trailing dots and spaces are removed (which also turns "." and ".."
/// into empty); an empty result becomes "_"; Windows device names (CON, PRN, AUX, NUL, COM1-9,
/// LPT1-9, also with an extension such as "con.txt") get a leading '_'; a segment longer than
/// <see cref="MaxSegmentBytes"/> UTF-8 bytes is shortened, keeping a short extension.
/// Absolute paths cannot survive this: separators and drive colons are replaced.
/// </remarks>
public static class PathSanitizer
{
    /// <summary>Longest segment kept, in UTF-8 bytes (the common file-system limit).</summary>
    public const int MaxSegmentBytes = 255;

    private static readonly string[] DeviceNames = ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"];

    /// <summary>Sanitises one path segment; the result is never empty, ".", or "..".</summary>
    public static string SanitizeSegment(string segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        var sb = new StringBuilder(segment.Length);
        foreach (var rune in segment.EnumerateRunes())
        {
            var v = rune.Value;
            var bad = v < 0x20 || v == 0x7F || (v >= 0x80 && v < 0xA0)
                || v is '/' or '\\' or '<' or '>' or ':' or '"' or '|' or '?' or '*';
            if (bad) sb.Append('_');
            else sb.Append(rune.ToString());
        }

        var end = sb.Length;
        while (end > 0 && sb[end - 1] is '.' or ' ') end--;
        sb.Length = end;
        var s = sb.Length == 0 ? "_" : sb.ToString();

        if (IsDeviceName(s)) s = "_" + s;
        return Shorten(s);
    }

    /// <summary>Sanitises a list of segments; an empty list becomes a single "_".</summary>
    public static IReadOnlyList<string> SanitizeSegments(IEnumerable<string> segments)
    {
        var list = segments.Select(SanitizeSegment).ToList();
        if (list.Count == 0) list.Add("_");
        return list;
    }

    /// <summary>
    /// Resolves a relative path under <paramref name="root"/> and proves with <see cref="Path.GetFullPath(string)"/>
    /// that the result stays inside it; throws <see cref="UnauthorizedAccessException"/> otherwise.
    /// </summary>
    public static string ResolveUnderRoot(string root, string relativePath)
    {
        if (!TryResolveUnderRoot(root, relativePath, out var full))
        {
            throw new UnauthorizedAccessException($"Path '{relativePath}' would leave the folder '{root}'.");
        }

        return full;
    }

    public static bool TryResolveUnderRoot(string root, string relativePath, out string fullPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentNullException.ThrowIfNull(relativePath);
        fullPath = string.Empty;
        if (relativePath.Length == 0 || relativePath.Contains('\0') || Path.IsPathRooted(relativePath)) return false;
        var rootFull = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        var candidate = Path.GetFullPath(Path.Combine(rootFull, relativePath));
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        var prefix = rootFull.EndsWith(Path.DirectorySeparatorChar) ? rootFull : rootFull + Path.DirectorySeparatorChar;
        if (!candidate.StartsWith(prefix, comparison)) return false;
        fullPath = candidate;
        return true;
    }

    private static bool IsDeviceName(string s)
    {
        var dot = s.IndexOf('.');
        var stem = (dot >= 0 ? s[..dot] : s).TrimEnd(' ');
        foreach (var d in DeviceNames)
        {
            if (stem.Equals(d, StringComparison.OrdinalIgnoreCase)) return true;
        }

        // COM0-9 and LPT0-9, including the superscript digits Windows also treats as devices.
        return stem.Length == 4
            && (stem.StartsWith("COM", StringComparison.OrdinalIgnoreCase) || stem.StartsWith("LPT", StringComparison.OrdinalIgnoreCase))
            && (char.IsAsciiDigit(stem[3]) || stem[3] is '¹' or '²' or '³');
    }

    /// <summary>The longest prefix of <paramref name="s"/> of at most <paramref name="maxBytes"/> UTF-8 bytes, cut between characters.</summary>
    internal static string TruncateUtf8(string s, int maxBytes)
    {
        if (Encoding.UTF8.GetByteCount(s) <= maxBytes) return s;
        var used = 0;
        var chars = 0;
        foreach (var rune in s.EnumerateRunes())
        {
            if (used + rune.Utf8SequenceLength > maxBytes) break;
            used += rune.Utf8SequenceLength;
            chars += rune.Utf16SequenceLength;
        }

        return s[..chars];
    }

    private static string Shorten(string s)
    {
        if (Encoding.UTF8.GetByteCount(s) <= MaxSegmentBytes) return s;
        var ext = Path.GetExtension(s);
        if (ext.Length > 16 || Encoding.UTF8.GetByteCount(ext) != ext.Length) ext = string.Empty;
        var budget = MaxSegmentBytes - ext.Length;
        var sb = new StringBuilder();
        var used = 0;
        foreach (var rune in s[..^ext.Length].EnumerateRunes())
        {
            var n = rune.Utf8SequenceLength;
            if (used + n > budget) break;
            sb.Append(rune.ToString());
            used += n;
        }

        var stem = sb.ToString().TrimEnd('.', ' ');
        return (stem.Length == 0 ? "_" : stem) + ext;
    }
}
