using System.Security.Claims;
using Microsoft.Extensions.Primitives;
using TorrentEdge.Catalog.Apis.Compat;
using TorrentEdge.Catalog.Infrastructure;

namespace TorrentEdge.Catalog.Apis.QBittorrent;

/// <summary>One Web API call: the caller, the parameters (query and form, as qBittorrent merges them) and the uploads.</summary>
internal sealed class QBittorrentRequest(HttpContext context, ClaimsPrincipal? user, IReadOnlyDictionary<string, StringValues> parameters, IFormFileCollection? files)
{
    public HttpContext Context => context;

    public ClaimsPrincipal User => user ?? throw new InvalidOperationException("The action is public.");

    public string UserId => User.GetUserId();

    public IFormFileCollection Files => files ?? EmptyFiles;

    public CancellationToken Aborted => context.RequestAborted;

    public ClientTorrents Torrents => context.RequestServices.GetRequiredService<ClientTorrents>();

    public bool Has(string name) => parameters.ContainsKey(name);

    /// <summary>The parameter, or empty when absent (qBittorrent reads absent parameters as empty strings).</summary>
    public string this[string name] => parameters.TryGetValue(name, out var v) ? v.ToString() : "";

    /// <summary>True when every named parameter is present (qBittorrent's requireParams).</summary>
    public bool Requires(params string[] names) => names.All(parameters.ContainsKey);

    /// <summary>"true"/"false" in any case, or null (qBittorrent's parseBool).</summary>
    public bool? Bool(string name) => this[name].ToLowerInvariant() switch { "true" => true, "false" => false, _ => null };

    /// <summary>The <c>hashes</c> list: null for <c>all</c>, else the valid info-hashes among the <c>|</c>-separated values.</summary>
    public IReadOnlyCollection<string>? Hashes(string name = "hashes")
    {
        var value = this[name];
        if (value == "all")
        {
            return null;
        }
        return value.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(ClientTorrents.NormalizeHash).OfType<string>().ToList();
    }

    private static readonly FormFileCollection EmptyFiles = [];
}
