using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TorrentEdge.Analytics.Tests.Apis;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Users;
using TorrentEdge.Notifier.Hubs;
using TorrentEdge.ServiceDefaults.Auth;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Notifier.Tests.Hubs;

/// <summary>
/// A user disabled while holding a valid token: once torrent-users says so (on the embedded Kafka), negotiation is refused
/// and the open connection is closed by the server, long before the token expires.
/// </summary>
public sealed class DisabledUserTests : IAsyncLifetime
{
    private readonly EmbeddedKafka _kafka = EmbeddedKafka.Start();
    private readonly TestTokens _tokens = new();
    private WebApplicationFactory<Program> _factory = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _kafka.CreateTopic(Topics.TorrentEvents, 2);
        _kafka.CreateTopic(Topics.Users, 3);
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
            .UseEnvironment("Production")
            .UseSetting("ConnectionStrings:kafka", _kafka.BootstrapServers)
            .UseSetting("Auth:JwksUrl", TestTokens.JwksUrl)
            .ConfigureServices(s => s.AddHttpClient(DefaultAuthentication.JwksHttpClientName)
                .ConfigurePrimaryHttpMessageHandler(_tokens.CreateJwksHandler)));
        _ = _factory.Server;
        await _factory.Services.GetRequiredService<UserAccessList>().CaughtUp.WaitAsync(TimeSpan.FromSeconds(20), Ct);
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        _kafka.Dispose();
        _tokens.Dispose();
    }

    private Task PublishAsync(string userId, bool disabled) =>
        _factory.Services.GetRequiredService<IIntegrationEventPublisher>().PublishAsync(
            Topics.Users, userId, new UserAccessChanged(userId, disabled, "user", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), Ct);

    private async Task<HttpStatusCode> NegotiateAsync(string token)
    {
        using var client = _factory.CreateClient();
        using var response = await client.PostAsync($"{TorrentHub.Path}/negotiate?negotiateVersion=1&access_token={token}", null, Ct);
        return response.StatusCode;
    }

    [Fact]
    public async Task Negotiate_UserDisabledWhileTokenValid_UnauthorizedWithinTwoSeconds()
    {
        var token = _tokens.Create("carol", "user");
        Assert.Equal(HttpStatusCode.OK, await NegotiateAsync(token));

        var watch = Stopwatch.StartNew();
        await PublishAsync("carol", disabled: true);
        var status = HttpStatusCode.OK;
        while (watch.Elapsed < TimeSpan.FromSeconds(2) && (status = await NegotiateAsync(token)) != HttpStatusCode.Unauthorized)
        {
            await Task.Delay(50, Ct);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        // Another user's token is untouched.
        Assert.Equal(HttpStatusCode.OK, await NegotiateAsync(_tokens.Create("dave", "user")));

        await PublishAsync("carol", disabled: false);
        var enabled = Stopwatch.StartNew();
        while (enabled.Elapsed < TimeSpan.FromSeconds(2) && (status = await NegotiateAsync(token)) != HttpStatusCode.OK)
        {
            await Task.Delay(50, Ct);
        }
        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task Connection_UserDisabled_ClosedByTheServerWithinTwoSeconds()
    {
        var token = _tokens.Create("erin", "user");
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(_factory.Server.BaseAddress, TorrentHub.Path), o =>
            {
                o.HttpMessageHandlerFactory = _ => _factory.Server.CreateHandler();
                o.Transports = HttpTransportType.LongPolling;
                o.AccessTokenProvider = () => Task.FromResult<string?>(token);
            })
            .Build();
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.Closed += _ =>
        {
            closed.TrySetResult();
            return Task.CompletedTask;
        };
        await connection.StartAsync(Ct);
        Assert.Equal(HubConnectionState.Connected, connection.State);
        // The token has minutes left: only the disable can close the connection in time.
        await Task.Delay(500, Ct);
        Assert.False(closed.Task.IsCompleted);

        var watch = Stopwatch.StartNew();
        await PublishAsync("erin", disabled: true);
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(5), Ct);

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"closed after {watch.Elapsed}");
        Assert.Equal(0, _factory.Services.GetRequiredService<UserConnections>().Count("erin"));
        await connection.DisposeAsync();
    }
}
