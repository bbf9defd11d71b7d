using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Users;
using TorrentEdge.ServiceDefaults.Auth;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Analytics.Tests.Apis;

/// <summary>
/// A user disabled (or demoted) while holding a valid token: once torrent-users says so on the embedded Kafka, Analytics
/// refuses the token, long before it expires.
/// </summary>
public sealed class DisabledUserTests : IAsyncLifetime
{
    private readonly EmbeddedKafka _kafka = EmbeddedKafka.Start();
    private readonly TestTokens _tokens = new();
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "analytics-disabled-" + Guid.NewGuid().ToString("N"));
    private WebApplicationFactory<Program> _factory = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _kafka.CreateTopic(Topics.TorrentEvents, 2);
        _kafka.CreateTopic(Topics.Users, 3);
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
            .UseEnvironment("Production")
            .UseSetting("ConnectionStrings:kafka", _kafka.BootstrapServers)
            .UseSetting("ConnectionStrings:analyticsdb", $"Data Source={Path.Combine(_directory, "analytics.db")}")
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
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private Task PublishAsync(string userId, bool disabled, string role) =>
        _factory.Services.GetRequiredService<IIntegrationEventPublisher>().PublishAsync(
            Topics.Users, userId, new UserAccessChanged(userId, disabled, role, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), Ct);

    private async Task<HttpStatusCode> StatisticsAsync(string token)
    {
        using var client = _factory.CreateClient();
        TestTokens.Authorize(client, token);
        using var response = await client.GetAsync("/api/statistics", Ct);
        return response.StatusCode;
    }

    /// <summary>Polls for up to two seconds until the status is <paramref name="expected"/>; returns the last one.</summary>
    private async Task<HttpStatusCode> WithinTwoSecondsAsync(string token, HttpStatusCode expected)
    {
        var watch = Stopwatch.StartNew();
        HttpStatusCode status;
        while ((status = await StatisticsAsync(token)) != expected && watch.Elapsed < TimeSpan.FromSeconds(2))
        {
            await Task.Delay(50, Ct);
        }
        return status;
    }

    [Fact]
    public async Task Statistics_UserDisabledWhileTokenValid_UnauthorizedWithinTwoSeconds()
    {
        var token = _tokens.Create("carol", "user");
        Assert.Equal(HttpStatusCode.OK, await StatisticsAsync(token));

        await PublishAsync("carol", disabled: true, "user");

        Assert.Equal(HttpStatusCode.Unauthorized, await WithinTwoSecondsAsync(token, HttpStatusCode.Unauthorized));
        Assert.Equal(HttpStatusCode.OK, await StatisticsAsync(_tokens.Create("dave", "user")));
    }

    [Fact]
    public async Task Statistics_AdminDemotedWhileTokenValid_AdminTokenUnauthorized()
    {
        var adminToken = _tokens.Create("frank", "admin");
        Assert.Equal(HttpStatusCode.OK, await StatisticsAsync(adminToken));

        await PublishAsync("frank", disabled: false, "user");

        // The admin token would still show everyone's statistics; a fresh token (the refresh) carries "user".
        Assert.Equal(HttpStatusCode.Unauthorized, await WithinTwoSecondsAsync(adminToken, HttpStatusCode.Unauthorized));
        Assert.Equal(HttpStatusCode.OK, await StatisticsAsync(_tokens.Create("frank", "user")));
    }
}
