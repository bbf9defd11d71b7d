using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Options;
using TorrentEdge.PeerWorker.Extensions;

namespace TorrentEdge.PeerWorker.Infrastructure;

/// <summary>Where the reconciler gets a torrent's metainfo when the spec does not carry it inline.</summary>
public interface IMetainfoSource
{
    /// <summary>The .torrent bytes, or null when Catalog does not have them (yet).</summary>
    Task<byte[]?> GetMetainfoAsync(string infoHash, CancellationToken cancellationToken);
}

/// <summary>
/// Typed client of Catalog's <c>GET /api/torrents/{hash}/metainfo</c>, addressed as <c>http://catalog</c> through service
/// discovery; the standard resilience handler of ServiceDefaults retries and times it out. Sends
/// <see cref="PeerWorkerOptions.ServiceToken"/> as a bearer token when one is configured.
/// </summary>
public sealed class CatalogMetainfoClient(HttpClient http, IOptions<PeerWorkerOptions> options) : IMetainfoSource
{
    public const string BaseAddress = "http://catalog";

    public async Task<byte[]?> GetMetainfoAsync(string infoHash, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/torrents/{Uri.EscapeDataString(infoHash)}/metainfo");
        if (options.Value.ServiceToken is { Length: > 0 } token)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }
}
