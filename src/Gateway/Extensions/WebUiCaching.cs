using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Net.Http.Headers;

namespace TorrentEdge.Gateway.Extensions;

/// <summary>
/// Cache headers of the web UI's static files (src/WebUi builds them into wwwroot): assets under <c>/assets/</c> carry
/// a content hash in their names, so browsers keep them a year without asking again; everything else, index.html
/// above all, is revalidated on every load, so a new build is picked up at once.
/// </summary>
public static class WebUiCaching
{
    public const string HashedAssetsPath = "/assets/";
    public const string Immutable = "public, max-age=31536000, immutable";
    public const string Revalidate = "no-cache";

    /// <summary>What the Gateway compresses: the web UI's own files (never API answers, which are proxied untouched).</summary>
    public static readonly string[] CompressedTypes = ["text/html", "text/css", "text/javascript", "application/javascript", "image/svg+xml"];

    public static void Apply(StaticFileResponseContext context)
    {
        var path = context.Context.Request.Path;
        context.Context.Response.Headers[HeaderNames.CacheControl] =
            path.StartsWithSegments(HashedAssetsPath.TrimEnd('/'), StringComparison.Ordinal) ? Immutable : Revalidate;
    }
}
