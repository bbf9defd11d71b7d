using System.Net.Http.Headers;
using System.Net.Http.Json;
using TorrentEdge.Catalog.Apis;

namespace TorrentEdge.Catalog.Tests;

/// <summary>
/// A running Catalog as the API's callers reach it: directly (<see cref="CatalogFactory"/>) or through the real Gateway
/// (<see cref="ThroughGateway.GatewayCatalogFixture"/>). The shared API cases run against both.
/// </summary>
public interface ICatalogApiHost
{
    /// <summary>Why the cases cannot run against this host here (its store's server is absent), or null.</summary>
    string? SkipReason => null;

    /// <summary>True when requests go through the Gateway (YARP) rather than to Catalog itself.</summary>
    bool ThroughGateway { get; }

    /// <summary>An anonymous client of the public entry.</summary>
    HttpClient CreateApiClient();

    /// <summary>A client logged in as the first user (the admin).</summary>
    Task<HttpClient> AdminAsync();

    /// <summary>Registers a user and returns a client logged in as that user.</summary>
    Task<HttpClient> UserAsync(string? name = null);

    /// <summary>The specs Catalog published to the embedded Kafka.</summary>
    KafkaSpecs Publisher { get; }

    /// <summary>Catalog's own services (its signing key, store), for tests that forge tokens or look inside.</summary>
    IServiceProvider CatalogServices { get; }
}

/// <summary>Registers and logs in test users over HTTP through whatever entry <c>create</c> gives.</summary>
public sealed class TestAccounts(Func<HttpClient> create)
{
    private readonly SemaphoreSlim _adminLock = new(1, 1);
    private HttpClient? _admin;

    public async Task<HttpClient> AdminAsync()
    {
        await _adminLock.WaitAsync();
        try
        {
            return _admin ??= await RegisterAsync(CatalogFactory.AdminName);
        }
        finally
        {
            _adminLock.Release();
        }
    }

    public async Task<HttpClient> UserAsync(string? name = null)
    {
        if (name == CatalogFactory.AdminName)
        {
            return await AdminAsync();
        }
        // The admin is registered first so that it is the first user.
        await AdminAsync();
        return await RegisterAsync(name ?? "user" + Guid.NewGuid().ToString("N")[..8]);
    }

    private async Task<HttpClient> RegisterAsync(string name)
    {
        var client = create();
        var register = await client.PostAsJsonAsync("/api/auth/register", new { username = name, password = CatalogFactory.Password });
        if (!register.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"register {name}: {register.StatusCode} {await register.Content.ReadAsStringAsync()}");
        }
        var tokens = await LoginAsync(client, name);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        return client;
    }

    public static async Task<TokenResponse> LoginAsync(HttpClient client, string name, string password = CatalogFactory.Password)
    {
        var response = await client.PostAsJsonAsync("/api/auth/login", new { username = name, password });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TokenResponse>())!;
    }
}
