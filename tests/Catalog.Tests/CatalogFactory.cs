using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using TorrentEdge.Catalog.Apis;
using TorrentEdge.Contracts;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Catalog.Tests;

/// <summary>Catalog in memory on a temporary SQLite file, outside Development, with a key given in configuration.</summary>
public class CatalogFactory : WebApplicationFactory<Program>
{
    public const string AdminName = "admin";
    public const string Password = "Correct-horse-1";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "catalog-tests-" + Guid.NewGuid().ToString("N"));
    private readonly SemaphoreSlim _adminLock = new(1, 1);
    private HttpClient? _admin;

    public RecordingPublisher Publisher { get; } = new();

    public string DataDirectory => _directory;

    protected virtual void Configure(IWebHostBuilder builder)
    {
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        builder.UseEnvironment("Testing");
        builder.UseSetting("TorrentEdge:DataDir", _directory);
        builder.UseSetting("ConnectionStrings:catalogdb", $"Data Source={Path.Combine(_directory, "catalog.db")}");
        builder.UseSetting("Auth:SigningKey", key.ExportPkcs8PrivateKeyPem());
        builder.UseSetting("Auth:LoginPermitsPerMinute", "100000");
        builder.UseSetting("Catalog:OutboxPollInterval", "00:00:00.100");
        builder.UseSetting("Catalog:MaxTorrentFileBytes", (1024 * 1024).ToString());
        builder.ConfigureTestServices(services => services.AddSingleton<IIntegrationEventPublisher>(Publisher));
        Configure(builder);
    }

    /// <summary>A client logged in as the first user (the admin).</summary>
    public async Task<HttpClient> AdminAsync()
    {
        await _adminLock.WaitAsync();
        try
        {
            return _admin ??= await UserAsync(AdminName);
        }
        finally
        {
            _adminLock.Release();
        }
    }

    /// <summary>Registers a user (the admin is registered first so it is the first user) and returns a logged-in client.</summary>
    public async Task<HttpClient> UserAsync(string? name = null)
    {
        if (name != AdminName)
        {
            await AdminAsync();
        }
        name ??= "user" + Guid.NewGuid().ToString("N")[..8];
        var client = CreateClient();
        var register = await client.PostAsJsonAsync("/api/auth/register", new { username = name, password = Password });
        if (!register.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"register {name}: {register.StatusCode} {await register.Content.ReadAsStringAsync()}");
        }
        var tokens = await LoginAsync(client, name);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        return client;
    }

    public static async Task<TokenResponse> LoginAsync(HttpClient client, string name, string password = Password)
    {
        var response = await client.PostAsJsonAsync("/api/auth/login", new { username = name, password });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TokenResponse>())!;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
        GC.SuppressFinalize(this);
    }
}

/// <summary>Records what the outbox published; can be told to fail.</summary>
public sealed class RecordingPublisher : IIntegrationEventPublisher
{
    public ConcurrentQueue<(string Topic, string Key, IntegrationEvent Event)> Published { get; } = new();

    public volatile bool Fail;

    public Task PublishAsync<TEvent>(string topic, string key, TEvent @event, CancellationToken cancellationToken = default)
        where TEvent : IntegrationEvent
    {
        if (Fail)
        {
            throw new InvalidOperationException("broker down");
        }
        Published.Enqueue((topic, key, @event));
        return Task.CompletedTask;
    }

    /// <summary>Waits (bounded) until a published event matches.</summary>
    public async Task<TEvent> WaitForAsync<TEvent>(Func<TEvent, bool> match, TimeSpan? timeout = null) where TEvent : IntegrationEvent
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            if (Published.Select(p => p.Event).OfType<TEvent>().LastOrDefault(match) is { } found)
            {
                return found;
            }
            await Task.Delay(25, cts.Token);
        }
    }
}
