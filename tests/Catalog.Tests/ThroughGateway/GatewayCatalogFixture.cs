extern alias gateway;

using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace TorrentEdge.Catalog.Tests.ThroughGateway;

/// <summary>
/// The suite's public path: the real Gateway (YARP, its <c>ServiceDiscoveryProxyConfigProvider</c> reading
/// <c>services:catalog:http:0</c>) on Kestrel at 127.0.0.1:0, in front of a real Catalog on Kestrel at 127.0.0.1:0
/// (SQLite file, embedded Kafka). Clients talk to the Gateway only.
/// </summary>
public class GatewayCatalogFixture : ICatalogApiHost, IAsyncLifetime
{
    /// <summary>The Gateway's body limit here: above Catalog's upload limit (1 MiB in tests), as in the defaults (32 MiB vs 10 MiB).</summary>
    public const long GatewayMaxBodyBytes = 4 * 1024 * 1024;

    private readonly TestAccounts _accounts;
    private GatewayHost? _gateway;

    public GatewayCatalogFixture()
        : this(new KestrelCatalogFactory())
    {
    }

    /// <summary>In front of a Catalog configured by the caller (it must listen on Kestrel).</summary>
    protected GatewayCatalogFixture(CatalogFactory catalog)
    {
        Catalog = catalog;
        _accounts = new TestAccounts(CreateApiClient);
    }

    public CatalogFactory Catalog { get; }

    public bool ThroughGateway => true;

    public KafkaSpecs Publisher => Catalog.Publisher;

    public IServiceProvider CatalogServices => Catalog.Services;

    /// <summary>The Gateway's address, the only one clients use.</summary>
    public Uri GatewayAddress => (_gateway ??= new GatewayHost(GatewaySettings())).Address;

    /// <summary>The Gateway's own services.</summary>
    public IServiceProvider GatewayServices => (_gateway ??= new GatewayHost(GatewaySettings())).Services;

    /// <summary>Gateway configuration: Catalog by service discovery, limits that a test run does not trip by accident.</summary>
    protected virtual Dictionary<string, string?> GatewaySettings() => new()
    {
        ["services:catalog:http:0"] = Catalog.Address.ToString().TrimEnd('/'),
        ["Gateway:RateLimit:PermitLimit"] = "1000000",
        ["Gateway:MaxRequestBodyBytes"] = GatewayMaxBodyBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    public HttpClient CreateApiClient() => new() { BaseAddress = GatewayAddress, Timeout = TimeSpan.FromSeconds(30) };

    public Task<HttpClient> AdminAsync() => _accounts.AdminAsync();

    public Task<HttpClient> UserAsync(string? name = null) => _accounts.UserAsync(name);

    /// <summary>Why the cases cannot run on this host (no server for its store), or null.</summary>
    public virtual string? SkipReason => null;

    public virtual ValueTask InitializeAsync()
    {
        _ = GatewayAddress;
        return ValueTask.CompletedTask;
    }

    /// <summary>Stops what a derived fixture started besides the Gateway and Catalog (after the Gateway).</summary>
    protected virtual ValueTask DisposeServicesAsync() => ValueTask.CompletedTask;

    public async ValueTask DisposeAsync()
    {
        if (_gateway is not null)
        {
            await _gateway.DisposeAsync();
        }
        await DisposeServicesAsync();
        await Catalog.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>The real Gateway (its Program), in Development like the AppHost runs it.</summary>
    private sealed class GatewayHost : WebApplicationFactory<gateway::Program>
    {
        private readonly IReadOnlyDictionary<string, string?> _settings;

        public GatewayHost(IReadOnlyDictionary<string, string?> settings)
        {
            _settings = settings;
            UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        }

        public Uri Address
        {
            get
            {
                StartServer();
                return new Uri(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
            }
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Development");
            foreach (var (key, value) in _settings)
            {
                builder.UseSetting(key, value);
            }
        }
    }
}
