extern alias analytics;
extern alias notifier;

using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace TorrentEdge.Catalog.Tests.ThroughGateway;

/// <summary>
/// The whole public surface behind the real Gateway: Catalog, Analytics (<c>/api/statistics</c>) and Notifier
/// (<c>/hubs</c>), each its own Program on Kestrel at 127.0.0.1:0, validating Catalog's tokens through its JWKS, on the
/// embedded Kafka. Outside Development, so tokens are required as in production.
/// </summary>
public sealed class SuiteGatewayFixture : GatewayCatalogFixture
{
    private readonly ServiceHost<analytics::Program> _analytics;
    private readonly ServiceHost<notifier::Program> _notifier;

    public SuiteGatewayFixture()
    {
        var jwks = new Uri(Catalog.Address, "/.well-known/jwks.json").ToString();
        _analytics = new ServiceHost<analytics::Program>(jwks);
        _notifier = new ServiceHost<notifier::Program>(jwks);
    }

    public IServiceProvider AnalyticsServices => _analytics.Services;

    public IServiceProvider NotifierServices => _notifier.Services;

    protected override Dictionary<string, string?> GatewaySettings()
    {
        var settings = base.GatewaySettings();
        settings["services:analytics:http:0"] = _analytics.Address.ToString().TrimEnd('/');
        settings["services:notifier:http:0"] = _notifier.Address.ToString().TrimEnd('/');
        return settings;
    }

    protected override async ValueTask DisposeServicesAsync()
    {
        await _analytics.DisposeAsync();
        await _notifier.DisposeAsync();
    }

    private sealed class ServiceHost<TProgram> : WebApplicationFactory<TProgram>
        where TProgram : class
    {
        private readonly string _jwks;

        public ServiceHost(string jwks)
        {
            _jwks = jwks;
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
            builder.UseEnvironment("Testing");
            builder.UseSetting("ConnectionStrings:kafka", SharedKafka.Instance.BootstrapServers);
            builder.UseSetting("Auth:JwksUrl", _jwks);
        }
    }
}
