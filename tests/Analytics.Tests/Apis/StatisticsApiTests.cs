using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Torrents;
using Microsoft.Extensions.Hosting;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Analytics.Tests.Apis;

/// <summary>Events produced to Kafka change what <c>/api/statistics</c> serves, to callers with a valid token, scoped by owner.</summary>
public sealed class StatisticsApiTests : IAsyncLifetime
{
    private const string InfoHash = "0123456789abcdef0123456789abcdef01234567";
    private const string BobHash = "89abcdef0123456789abcdef0123456789abcdef";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly EmbeddedKafka _kafka = EmbeddedKafka.Start();
    private readonly TestTokens _tokens = new();
    private WebApplicationFactory<Program> _factory = null!;

    public ValueTask InitializeAsync()
    {
        _kafka.CreateTopic(Topics.TorrentEvents, 2);
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
            .UseSetting("ConnectionStrings:kafka", _kafka.BootstrapServers)
            .UseSetting("Auth:JwksUrl", TestTokens.JwksUrl)
            .ConfigureServices(s => s.AddHttpClient(DefaultAuthentication.JwksHttpClientName)
                .ConfigurePrimaryHttpMessageHandler(_tokens.CreateJwksHandler)));
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        _kafka.Dispose();
        _tokens.Dispose();
    }

    private HttpClient Client(string sub, string role)
    {
        var client = _factory.CreateClient();
        TestTokens.Authorize(client, _tokens.Create(sub, role));
        return client;
    }

    private static async Task<JsonElement> WaitForStatisticsAsync(HttpClient client, int torrents, int completed, CancellationToken ct)
    {
        // The group joins and reads from the beginning (earliest), so the events arrive whatever the timing.
        JsonElement statistics;
        var clock = Stopwatch.StartNew();
        do
        {
            Assert.True(clock.Elapsed < Timeout, "the statistics never showed the expected torrents");
            await Task.Delay(100, ct);
            statistics = await client.GetFromJsonAsync<JsonElement>("/api/statistics", ct);
        }
        while (statistics.GetProperty("totals").GetProperty("torrents").GetInt32() < torrents
            || statistics.GetProperty("totals").GetProperty("completed").GetInt32() < completed);
        return statistics;
    }

    [Fact]
    public async Task TorrentEvents_ProducedToKafka_StatisticsChange()
    {
        using var client = Client("admin-id", "admin");
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/statistics/torrents/{InfoHash}", ct)).StatusCode);
        var before = await client.GetFromJsonAsync<JsonElement>("/api/statistics", ct);
        Assert.Equal(0, before.GetProperty("totals").GetProperty("torrents").GetInt32());

        var publisher = _factory.Services.GetRequiredService<IIntegrationEventPublisher>();
        await publisher.PublishAsync(Topics.TorrentEvents, InfoHash, new TorrentAdded(InfoHash, ["alice"], "debian.iso", 4096, "w1"), ct);
        await publisher.PublishAsync(Topics.TorrentEvents, InfoHash,
            new TorrentProgressed(InfoHash, ["alice"], TorrentState.Downloading, 0.5, 2048, 4096, 2048, 128, 512, 64, 2, 7, 4, [], []), ct);
        await publisher.PublishAsync(Topics.TorrentEvents, InfoHash, new TorrentCompleted(InfoHash, ["alice"], 4096), ct);

        var statistics = await WaitForStatisticsAsync(client, 1, 1, ct);

        var totals = statistics.GetProperty("totals");
        Assert.Equal(1, totals.GetProperty("torrents").GetInt32());
        Assert.Equal(2048, totals.GetProperty("bytesDownloaded").GetInt64());
        Assert.Equal(128, totals.GetProperty("bytesUploaded").GetInt64());
        var user = Assert.Single(statistics.GetProperty("users").EnumerateArray());
        Assert.Equal("alice", user.GetProperty("userId").GetString());

        var torrent = await client.GetFromJsonAsync<JsonElement>($"/api/statistics/torrents/{InfoHash}", ct);
        Assert.Equal("debian.iso", torrent.GetProperty("name").GetString());
        Assert.True(torrent.GetProperty("completed").GetBoolean());
        Assert.Equal("Downloading", torrent.GetProperty("state").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/statistics/users/alice", ct)).StatusCode);
    }

    [Fact]
    public async Task Statistics_WithoutToken_Unauthorized()
    {
        using var client = _factory.CreateClient();
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/statistics", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync($"/api/statistics/torrents/{InfoHash}", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/statistics/users/alice", ct)).StatusCode);
    }

    [Fact]
    public async Task Statistics_Rs256Token_Unauthorized()
    {
        using var client = _factory.CreateClient();
        var ct = TestContext.Current.CancellationToken;
        // The control: the same claims with ES256 pass.
        TestTokens.Authorize(client, _tokens.Create("admin-id", "admin", DateTime.UtcNow.AddMinutes(5)));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/statistics", ct)).StatusCode);

        // Signed with a key the JWKS publishes, but RSA: only ES256 is Catalog's algorithm.
        TestTokens.Authorize(client, _tokens.Create("admin-id", "admin", DateTime.UtcNow.AddMinutes(5), rs256: true));
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/statistics", ct)).StatusCode);
    }

    [Fact]
    public async Task Statistics_ExpiredToken_Unauthorized()
    {
        using var client = _factory.CreateClient();
        TestTokens.Authorize(client, _tokens.Create("admin-id", "admin", DateTime.UtcNow.AddMinutes(-2)));

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/statistics", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public async Task Statistics_User_SeesOnlyOwnTorrents_AdminSeesAll()
    {
        var ct = TestContext.Current.CancellationToken;
        var publisher = _factory.Services.GetRequiredService<IIntegrationEventPublisher>();
        await publisher.PublishAsync(Topics.TorrentEvents, InfoHash, new TorrentAdded(InfoHash, ["alice"], "alice.iso", 4096, "w1"), ct);
        await publisher.PublishAsync(Topics.TorrentEvents, BobHash, new TorrentAdded(BobHash, ["bob"], "bob.iso", 8192, "w1"), ct);
        await publisher.PublishAsync(Topics.TorrentEvents, BobHash, new TorrentCompleted(BobHash, ["bob"], 8192), ct);

        using var admin = Client("admin-id", "admin");
        var all = await WaitForStatisticsAsync(admin, 2, 1, ct);
        Assert.Equal(["alice", "bob"], all.GetProperty("users").EnumerateArray().Select(u => u.GetProperty("userId").GetString()));
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync($"/api/statistics/torrents/{BobHash}", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/statistics/users/alice", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/statistics/users/bob", ct)).StatusCode);

        using var alice = Client("alice", "user");
        var own = await alice.GetFromJsonAsync<JsonElement>("/api/statistics", ct);
        var totals = own.GetProperty("totals");
        Assert.Equal((1, 0), (totals.GetProperty("torrents").GetInt32(), totals.GetProperty("completed").GetInt32()));
        Assert.Equal(1, own.GetProperty("swarmHealth").GetProperty("unknown").GetInt32());
        Assert.Equal("alice", Assert.Single(own.GetProperty("users").EnumerateArray()).GetProperty("userId").GetString());
        Assert.Empty(own.GetProperty("rateHistory").EnumerateArray());
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync($"/api/statistics/torrents/{InfoHash}", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync($"/api/statistics/torrents/{BobHash}", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await alice.GetAsync("/api/statistics/users/alice", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync("/api/statistics/users/bob", ct)).StatusCode);
    }
}
