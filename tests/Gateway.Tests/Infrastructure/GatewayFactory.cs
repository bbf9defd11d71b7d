using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace TorrentEdge.Gateway.Tests.Infrastructure;

/// <summary>The real Gateway (its Program) on Kestrel at 127.0.0.1:0, with settings and service-discovery entries of the test's choosing.</summary>
public sealed class GatewayFactory : WebApplicationFactory<Program>
{
    private readonly IReadOnlyDictionary<string, string?> _settings;
    private readonly Action<IWebHostBuilder>? _configure;

    public GatewayFactory(IReadOnlyDictionary<string, string?> settings, Action<IWebHostBuilder>? configure = null)
    {
        _settings = settings;
        _configure = configure;
        UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
    }

    /// <summary>Entries <c>services:&lt;name&gt;:http:&lt;i&gt;</c> for each backend, in Aspire's convention.</summary>
    public static Dictionary<string, string?> Discovery(params (string Service, Backend[] Replicas)[] services)
    {
        var settings = new Dictionary<string, string?>();
        foreach (var (service, replicas) in services)
        {
            for (var i = 0; i < replicas.Length; i++)
            {
                settings[$"services:{service}:http:{i}"] = replicas[i].Address.ToString().TrimEnd('/');
            }
        }
        return settings;
    }

    public Uri Address
    {
        get
        {
            StartServer();
            return new Uri(Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        }
    }

    public HttpClient CreateRealClient() => new() { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        // UseSetting, unlike ConfigureAppConfiguration, is visible while Program still builds its services.
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        _configure?.Invoke(builder);
    }
}
