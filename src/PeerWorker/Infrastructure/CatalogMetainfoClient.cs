using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
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
/// discovery; the standard resilience handler of ServiceDefaults retries and times it out. Authenticates with a
/// service token that <see cref="CatalogServiceToken"/> obtains from the configured client credentials, and gets a
/// fresh one once when Catalog answers 401 (expired, or Catalog's key changed).
/// </summary>
public sealed class CatalogMetainfoClient(HttpClient http, CatalogServiceToken serviceToken) : IMetainfoSource
{
    public const string BaseAddress = "http://catalog";

    public async Task<byte[]?> GetMetainfoAsync(string infoHash, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var token = await serviceToken.GetAsync(http, renew: attempt > 0, cancellationToken).ConfigureAwait(false);
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/torrents/{Uri.EscapeDataString(infoHash)}/metainfo");
            if (token is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            }
            using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Unauthorized && token is not null && attempt == 0)
            {
                continue;
            }
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
            response.EnsureSuccessStatusCode();
            return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}

/// <summary>
/// The replica's service token from Catalog (<c>POST /api/auth/service-token</c> with
/// <see cref="PeerWorkerOptions.CatalogClientId"/> and <see cref="PeerWorkerOptions.CatalogClientSecret"/>), cached and
/// renewed a minute before it expires. Without a secret there is no token (Catalog then answers 401).
/// </summary>
public sealed class CatalogServiceToken(IOptions<PeerWorkerOptions> options, TimeProvider time)
{
    private static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(1);

    private readonly SemaphoreSlim _lock = new(1, 1);
    private string? _token;
    private DateTimeOffset _renewAt;

    /// <summary>The current token, fetched with <paramref name="http"/> (based at Catalog) when there is none, it is about to expire, or <paramref name="renew"/>.</summary>
    public async Task<string?> GetAsync(HttpClient http, bool renew, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (string.IsNullOrEmpty(settings.CatalogClientSecret))
        {
            return null;
        }
        var stale = _token;
        if (!renew && stale is not null && time.GetUtcNow() < _renewAt)
        {
            return stale;
        }
        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another caller may have renewed it while this one waited.
            if (_token is not null && time.GetUtcNow() < _renewAt && (!renew || !ReferenceEquals(_token, stale)))
            {
                return _token;
            }
            using var response = await http.PostAsJsonAsync("/api/auth/service-token",
                new ServiceTokenRequest(settings.CatalogClientId, settings.CatalogClientSecret), cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                throw new InvalidOperationException(
                    $"Catalog refused the service credentials of client '{settings.CatalogClientId}' (PeerWorker:CatalogClientId / PeerWorker:CatalogClientSecret must match Catalog's Auth:ServiceClients).");
            }
            response.EnsureSuccessStatusCode();
            var issued = await response.Content.ReadFromJsonAsync<ServiceTokenResponse>(cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException("Catalog sent an empty service token response.");
            var lifetime = TimeSpan.FromSeconds(issued.ExpiresIn);
            _renewAt = time.GetUtcNow() + (lifetime > 2 * RenewBefore ? lifetime - RenewBefore : lifetime / 2);
            _token = issued.AccessToken;
            return _token;
        }
        finally
        {
            _lock.Release();
        }
    }

    private sealed record ServiceTokenRequest(string ClientId, string ClientSecret);

    private sealed record ServiceTokenResponse(string AccessToken, int ExpiresIn);
}
