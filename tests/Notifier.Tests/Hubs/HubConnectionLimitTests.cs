using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using TorrentEdge.Contracts;
using TorrentEdge.Notifier.Hubs;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Notifier.Tests.Hubs;

/// <summary>Each user may hold at most <c>Notifier:MaxConnectionsPerUser</c> hub connections (issue 16).</summary>
public sealed class HubConnectionLimitTests : IAsyncLifetime
{
    private const int Limit = 2;
    private readonly EmbeddedKafka _kafka = EmbeddedKafka.Start();
    private WebApplicationFactory<Program> _factory = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _kafka.CreateTopic(Topics.TorrentEvents, 2);
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
            .UseEnvironment("Development")
            .UseSetting("ConnectionStrings:kafka", _kafka.BootstrapServers)
            .UseSetting("Notifier:MaxConnectionsPerUser", Limit.ToString()));
        _ = _factory.Server;
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        _kafka.Dispose();
    }

    private HubConnection Connection(string user) => new HubConnectionBuilder()
        .WithUrl(new Uri(_factory.Server.BaseAddress, TorrentHub.Path + "?user=" + user), o =>
        {
            o.HttpMessageHandlerFactory = _ => _factory.Server.CreateHandler();
            o.Transports = HttpTransportType.LongPolling;
        })
        .Build();

    [Fact]
    public async Task Connect_BeyondPerUserLimit_RefusedWithProblemUntilOneCloses()
    {
        var open = new List<HubConnection>();
        for (var i = 0; i < Limit; i++)
        {
            var connection = Connection("alice");
            await connection.StartAsync(Ct);
            open.Add(connection);
        }

        // The N+1-th: the client fails to start, and the negotiate request says why, as a problem.
        var extra = Connection("alice");
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => extra.StartAsync(Ct));
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        using var client = _factory.CreateClient();
        using var negotiate = await client.PostAsync($"{TorrentHub.Path}/negotiate?negotiateVersion=1&user=alice", null, Ct);
        Assert.Equal(HttpStatusCode.TooManyRequests, negotiate.StatusCode);
        Assert.Equal("application/problem+json", negotiate.Content.Headers.ContentType?.MediaType);
        var problem = JsonDocument.Parse(await negotiate.Content.ReadAsStringAsync(Ct)).RootElement;
        Assert.Equal("Too many hub connections", problem.GetProperty("title").GetString());
        Assert.Equal(Limit, problem.GetProperty("limit").GetInt32());

        // Another user is not affected.
        var bob = Connection("bob");
        await bob.StartAsync(Ct);

        // Closing one frees a place.
        await open[0].DisposeAsync();
        var limiter = _factory.Services.GetRequiredService<HubConnectionLimiter>();
        var clock = Stopwatch.StartNew();
        while (limiter.OpenConnections("alice") >= Limit)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), "the closed connection was never released");
            await Task.Delay(50, Ct);
        }
        var again = Connection("alice");
        await again.StartAsync(Ct);
        Assert.Equal(HubConnectionState.Connected, again.State);

        foreach (var c in open.Skip(1).Append(bob).Append(again))
        {
            await c.DisposeAsync();
        }
    }
}
