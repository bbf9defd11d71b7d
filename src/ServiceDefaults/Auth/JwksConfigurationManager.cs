using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace TorrentEdge.ServiceDefaults.Auth;

/// <summary>
/// Serves JwtBearer the signing keys from a bare JWKS document (Catalog is no OpenID provider, so there is no discovery
/// document), cached for a while and refetched on demand when a token names a key we do not have.
/// </summary>
public sealed class JwksConfigurationManager(Func<HttpClient> httpClient, Uri jwksUri, TimeProvider time) : IConfigurationManager<OpenIdConnectConfiguration>
{
    /// <summary>The issuer the keys belong to (JwtBearer adds it to the valid issuers).</summary>
    public string? Issuer { get; init; }

    /// <summary>How long keys are trusted before they are fetched again.</summary>
    public TimeSpan CacheDuration { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The least time between two fetches forced by unknown key ids, so forged tokens cannot hammer Catalog.</summary>
    public TimeSpan MinimumRefreshInterval { get; init; } = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _lock = new(1, 1);
    private OpenIdConnectConfiguration? _current;
    private DateTimeOffset _fetchedAt;
    private bool _refreshRequested;

    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancel)
    {
        if (IsFresh())
        {
            return _current!;
        }
        await _lock.WaitAsync(cancel).ConfigureAwait(false);
        try
        {
            if (IsFresh())
            {
                return _current!;
            }
            try
            {
                using var client = httpClient();
                var json = await client.GetStringAsync(jwksUri, cancel).ConfigureAwait(false);
                var keys = new JsonWebKeySet(json);
                var configuration = new OpenIdConnectConfiguration { Issuer = Issuer, JwksUri = jwksUri.ToString(), JsonWebKeySet = keys };
                foreach (var key in keys.GetSigningKeys())
                {
                    configuration.SigningKeys.Add(key);
                }
                _current = configuration;
                _fetchedAt = time.GetUtcNow();
                _refreshRequested = false;
                return configuration;
            }
            catch (Exception) when (_current is not null && !cancel.IsCancellationRequested)
            {
                // Catalog briefly away: the keys we have are still the best answer.
                _fetchedAt = time.GetUtcNow() - CacheDuration + MinimumRefreshInterval;
                return _current;
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    private bool IsFresh()
    {
        if (_current is null)
        {
            return false;
        }
        var age = time.GetUtcNow() - _fetchedAt;
        return age < CacheDuration && !(_refreshRequested && age >= MinimumRefreshInterval);
    }

    public void RequestRefresh() => _refreshRequested = true;
}
