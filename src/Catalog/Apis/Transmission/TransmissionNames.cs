using System.Text;

namespace TorrentEdge.Catalog.Apis.Transmission;

/// <summary>
/// Transmission's two spellings: up to 4.0 method names are kebab-case and keys camelCase or kebab-case ("hashString",
/// "download-dir"); 4.1's JSON-RPC 2.0 uses snake_case for both. Requests are read in snake_case whatever they used.
/// </summary>
internal static class TransmissionNames
{
    /// <summary>"hashString", "download-dir" and "hash_string" all become "hash_string".</summary>
    public static string ToSnake(string name)
    {
        var builder = new StringBuilder(name.Length + 8);
        foreach (var c in name)
        {
            if (c == '-')
            {
                builder.Append('_');
            }
            else if (char.IsUpper(c))
            {
                if (builder.Length > 0 && builder[^1] != '_')
                {
                    builder.Append('_');
                }
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }

    /// <summary>"hash_string" as the legacy protocol spells torrent fields ("hashString").</summary>
    public static string ToCamel(string snake)
    {
        var builder = new StringBuilder(snake.Length);
        var upper = false;
        foreach (var c in snake)
        {
            if (c == '_')
            {
                upper = true;
                continue;
            }
            builder.Append(upper ? char.ToUpperInvariant(c) : c);
            upper = false;
        }
        return builder.ToString();
    }
}
