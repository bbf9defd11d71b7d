using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Confluent.Kafka;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using TorrentEdge.Catalog.Apis;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Catalog.Tests;

/// <summary>
/// Catalog on a temporary SQLite file and the embedded Kafka, outside Development, with a key given in configuration:
/// in memory (TestServer), or on Kestrel at 127.0.0.1:0 when another process-like host (the Gateway) must reach it.
/// </summary>
public class CatalogFactory : WebApplicationFactory<Program>, ICatalogApiHost
{
    public const string AdminName = "admin";
    public const string Password = "Correct-horse-1";

    /// <summary>The service client configured in every test Catalog (as the AppHost configures PeerWorkers in Development).</summary>
    public const string ServiceClientId = "peerworker";
    public const string ServiceClientSecret = "test-service-secret-0123456789abcdef";

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "catalog-tests-" + Guid.NewGuid().ToString("N"));
    private readonly bool _deleteDirectory = true;
    private readonly TestAccounts _accounts;

    private readonly string _group = "catalog-test-" + Guid.NewGuid().ToString("N");
    private KafkaSpecs? _publisher;

    /// <summary>The specs Catalog published, read back from the embedded Kafka's torrent-specs; can make publishing fail.</summary>
    public KafkaSpecs Publisher => _publisher ??= new KafkaSpecs(SharedKafka.Instance, _group);

    public CatalogFactory()
        : this(kestrel: false)
    {
    }

    protected CatalogFactory(bool kestrel)
    {
        if (kestrel)
        {
            UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        }
        _accounts = new TestAccounts(CreateApiClient);
    }

    /// <summary>On a data directory of the caller's (a restart sees what the previous instance stored), kept on dispose unless asked.</summary>
    protected CatalogFactory(string directory, bool deleteDirectory)
        : this(kestrel: false)
    {
        _directory = directory;
        _deleteDirectory = deleteDirectory;
    }

    public string DataDirectory => _directory;

    public bool ThroughGateway => false;

    public IServiceProvider CatalogServices => Services;

    /// <summary>Where Kestrel listens (only when started with <c>kestrel: true</c>).</summary>
    public Uri Address
    {
        get
        {
            StartServer();
            return new Uri(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        }
    }

    public HttpClient CreateApiClient() => CreateClient();

    /// <summary>A Catalog with one configuration key set (as in appsettings), on Kestrel if <paramref name="kestrel"/>.</summary>
    public static CatalogFactory WithSetting(string key, string value, bool kestrel = false) => new OneSettingFactory(key, value, kestrel);

    private sealed class OneSettingFactory(string key, string value, bool kestrel) : CatalogFactory(kestrel)
    {
        protected override void Configure(IWebHostBuilder builder) => builder.UseSetting(key, value);
    }

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
        builder.UseSetting("ConnectionStrings:kafka", SharedKafka.Instance.BootstrapServers);
        builder.UseSetting("Catalog:ConsumerGroup", _group);
        builder.UseSetting($"Auth:ServiceClients:{ServiceClientId}", ServiceClientSecret);
        builder.ConfigureTestServices(services =>
        {
            // The real Kafka publisher, behind a switch that can make it fail like a broker outage.
            var real = services.Last(d => d.ServiceType == typeof(IIntegrationEventPublisher));
            services.Remove(real);
            services.AddSingleton<IIntegrationEventPublisher>(sp => new FlakyPublisher(
                (IIntegrationEventPublisher)ActivatorUtilities.CreateInstance(sp, real.ImplementationType!), Publisher));
        });
        Configure(builder);
    }

    /// <summary>A client logged in as the first user (the admin).</summary>
    public Task<HttpClient> AdminAsync() => _accounts.AdminAsync();

    /// <summary>Registers a user (the admin is registered first so it is the first user) and returns a logged-in client.</summary>
    public Task<HttpClient> UserAsync(string? name = null) => _accounts.UserAsync(name);

    public static Task<TokenResponse> LoginAsync(HttpClient client, string name, string password = Password) =>
        TestAccounts.LoginAsync(client, name, password);

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _publisher?.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            if (_deleteDirectory)
            {
                Directory.Delete(_directory, recursive: true);
            }
        }
        catch (IOException)
        {
        }
        GC.SuppressFinalize(this);
    }
}

/// <summary>Catalog on Kestrel at 127.0.0.1:0, for clients that need a real address (a PeerWorker's HTTP client).</summary>
public sealed class KestrelCatalogFactory() : CatalogFactory(kestrel: true);

/// <summary>Fails every publish while <see cref="KafkaSpecs.Fail"/> is set, else publishes for real.</summary>
internal sealed class FlakyPublisher(IIntegrationEventPublisher inner, KafkaSpecs control) : IIntegrationEventPublisher
{
    public Task PublishAsync<TEvent>(string topic, string key, TEvent @event, CancellationToken cancellationToken = default)
        where TEvent : IntegrationEvent =>
        control.Fail ? throw new InvalidOperationException("broker down (simulated)") : inner.PublishAsync(topic, key, @event, cancellationToken);
}

/// <summary>One embedded Kafka (librdkafka's mock cluster) for the whole test run.</summary>
public static class SharedKafka
{
    private static readonly Lazy<EmbeddedKafka> Kafka = new(() =>
    {
        var kafka = EmbeddedKafka.Start();
        kafka.CreateTopic(Topics.TorrentSpecs, 3);
        kafka.CreateTopic(Topics.TorrentEvents, 3);
        kafka.CreateTopic(Topics.Users, 3);
        return kafka;
    });

    public static EmbeddedKafka Instance => Kafka.Value;
}

/// <summary>Reads torrent-specs with a plain Confluent.Kafka consumer, as a worker would, and keeps what arrived.</summary>
public sealed class KafkaSpecs : IDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public KafkaSpecs(EmbeddedKafka kafka, string group)
    {
        KafkaNativeLibrary.EnsureLoaded();
        var consumer = new ConsumerBuilder<string, byte[]>(new ConsumerConfig
        {
            BootstrapServers = kafka.BootstrapServers,
            GroupId = group + "-specs-reader",
            AutoOffsetReset = AutoOffsetReset.Earliest,
            EnableAutoCommit = false,
        }).Build();
        consumer.Subscribe(Topics.TorrentSpecs);
        _loop = Task.Run(() =>
        {
            try
            {
                while (!_stop.IsCancellationRequested)
                {
                    ConsumeResult<string, byte[]>? result;
                    try
                    {
                        result = consumer.Consume(TimeSpan.FromMilliseconds(100));
                    }
                    catch (ConsumeException)
                    {
                        continue;
                    }
                    if (result?.Message is { Value: not null } message
                        && message.Headers.TryGetLastBytes("message-type", out var type)
                        && System.Text.Encoding.UTF8.GetString(type) == nameof(TorrentSpecChanged))
                    {
                        var spec = JsonSerializer.Deserialize<TorrentSpecChanged>(message.Value, IntegrationEventJson.Options)!;
                        Published.Enqueue((result.Topic, message.Key, spec));
                    }
                }
            }
            finally
            {
                consumer.Close();
                consumer.Dispose();
            }
        });
    }

    public volatile bool Fail;

    public ConcurrentQueue<(string Topic, string Key, IntegrationEvent Event)> Published { get; } = new();

    /// <summary>Waits (bounded) until a spec read from Kafka matches.</summary>
    public async Task<TEvent> WaitForAsync<TEvent>(Func<TEvent, bool> match, TimeSpan? timeout = null) where TEvent : IntegrationEvent
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            if (Published.Select(p => p.Event).OfType<TEvent>().LastOrDefault(match) is { } found)
            {
                return found;
            }
            await Task.Delay(25, cts.Token);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _loop.Wait(TimeSpan.FromSeconds(10));
    }
}

/// <summary>Records what the outbox published; can be told to fail (unit tests of the dispatcher).</summary>
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
