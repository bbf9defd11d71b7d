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

    private EmbeddedKafka _kafka = EmbeddedKafka.Start();
    private readonly TestTokens _tokens = new();
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "analytics-api-" + Guid.NewGuid().ToString("N"));
    private WebApplicationFactory<Program> _factory = null!;

    public ValueTask InitializeAsync()
    {
        _kafka.CreateTopic(Topics.TorrentEvents, 2);
        _factory = CreateFactory();
        return ValueTask.CompletedTask;
    }

    /// <summary>Analytics on the current Kafka, with its statistics in this test's SQLite file.</summary>
    private WebApplicationFactory<Program> CreateFactory() =>
        new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
            .UseSetting("ConnectionStrings:kafka", _kafka.BootstrapServers)
            .UseSetting("ConnectionStrings:analyticsdb", $"Data Source={Path.Combine(_directory, "analytics.db")}")
            .UseSetting("Auth:JwksUrl", TestTokens.JwksUrl)
            .ConfigureServices(s => s.AddHttpClient(DefaultAuthentication.JwksHttpClientName)
                .ConfigurePrimaryHttpMessageHandler(_tokens.CreateJwksHandler)));

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

    [Fact]
    public async Task Statistics_AnalyticsRestartsOnAnEmptyLog_TotalsAndHistoryKept()
    {
        var ct = TestContext.Current.CancellationToken;
        var publisher = _factory.Services.GetRequiredService<IIntegrationEventPublisher>();
        await publisher.PublishAsync(Topics.TorrentEvents, InfoHash, new TorrentAdded(InfoHash, ["alice"], "debian.iso", 4096, "w1"), ct);
        await publisher.PublishAsync(Topics.TorrentEvents, InfoHash,
            new TorrentProgressed(InfoHash, ["alice"], TorrentState.Downloading, 0.5, 2048, 4096, 2048, 128, 512, 64, 2, 7, 4, [], []), ct);
        await publisher.PublishAsync(Topics.TorrentEvents, InfoHash, new TorrentCompleted(InfoHash, ["alice"], 4096), ct);
        using (var admin = Client("admin-id", "admin"))
        {
            await WaitForStatisticsAsync(admin, 1, 1, ct);
        }

        // Analytics stops, and comes back on a broker that lost its log (the embedded Kafka after a suite restart).
        await _factory.DisposeAsync();
        _kafka.Dispose();
        _kafka = EmbeddedKafka.Start();
        _kafka.CreateTopic(Topics.TorrentEvents, 2);
        _factory = CreateFactory();

        using var again = Client("admin-id", "admin");
        var statistics = await again.GetFromJsonAsync<JsonElement>("/api/statistics", ct);
        var totals = statistics.GetProperty("totals");
        Assert.Equal((1, 1, 2048L, 128L), (totals.GetProperty("torrents").GetInt32(), totals.GetProperty("completed").GetInt32(),
            totals.GetProperty("bytesDownloaded").GetInt64(), totals.GetProperty("bytesUploaded").GetInt64()));
        var history = await again.GetFromJsonAsync<JsonElement>($"/api/statistics/torrents/{InfoHash}/history", ct);
        var point = Assert.Single(history.GetProperty("points").EnumerateArray());
        Assert.Equal((512L, 64L), (point.GetProperty("downloadRate").GetInt64(), point.GetProperty("uploadRate").GetInt64()));
    }

    [Fact]
    public async Task History_PerTorrentAndPerUser_StepsChosenAndCheckedOwnersScoped()
    {
        var ct = TestContext.Current.CancellationToken;
        var publisher = _factory.Services.GetRequiredService<IIntegrationEventPublisher>();
        var at = DateTimeOffset.UtcNow;
        await publisher.PublishAsync(Topics.TorrentEvents, InfoHash, new TorrentAdded(InfoHash, ["alice"], "alice.iso", 4096, "w1"), ct);
        await publisher.PublishAsync(Topics.TorrentEvents, InfoHash,
            new TorrentProgressed(InfoHash, ["alice"], TorrentState.Downloading, 0.5, 2048, 4096, 2048, 0, 300, 0, 1, 1, 4, [], []) { OccurredAt = at }, ct);
        await publisher.PublishAsync(Topics.TorrentEvents, BobHash, new TorrentAdded(BobHash, ["bob"], "bob.iso", 8192, "w1"), ct);
        await publisher.PublishAsync(Topics.TorrentEvents, BobHash,
            new TorrentProgressed(BobHash, ["bob"], TorrentState.Downloading, 0.5, 4096, 8192, 4096, 0, 700, 0, 1, 1, 4, [], []) { OccurredAt = at }, ct);
        using var admin = Client("admin-id", "admin");
        await WaitForStatisticsAsync(admin, 2, 0, ct);
        var clock = Stopwatch.StartNew();
        while ((await admin.GetFromJsonAsync<JsonElement>($"/api/statistics/torrents/{BobHash}/history", ct)).GetProperty("points").GetArrayLength() == 0)
        {
            Assert.True(clock.Elapsed < Timeout, "bob's history never showed a point");
            await Task.Delay(100, ct);
        }

        using var alice = Client("alice", "user");
        var perSecond = await alice.GetFromJsonAsync<JsonElement>($"/api/statistics/torrents/{InfoHash}/history", ct);
        Assert.Equal(1, perSecond.GetProperty("stepSeconds").GetInt32());
        Assert.Equal(300, Assert.Single(perSecond.GetProperty("points").EnumerateArray()).GetProperty("downloadRate").GetInt64());
        var from = Uri.EscapeDataString(at.AddHours(-5).ToString("O"));
        var perMinute = await alice.GetFromJsonAsync<JsonElement>($"/api/statistics/users/alice/history?from={from}", ct);
        Assert.Equal(60, perMinute.GetProperty("stepSeconds").GetInt32());
        Assert.Equal(300, Assert.Single(perMinute.GetProperty("points").EnumerateArray()).GetProperty("downloadRate").GetInt64());
        var everyone = await admin.GetFromJsonAsync<JsonElement>($"/api/statistics/users/bob/history?step=1h&from={from}", ct);
        Assert.Equal(700, Assert.Single(everyone.GetProperty("points").EnumerateArray()).GetProperty("downloadRate").GetInt64());

        // Someone else's torrent or user is not found; bad parameters are problem details saying what is wrong.
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync($"/api/statistics/torrents/{BobHash}/history", ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await alice.GetAsync("/api/statistics/users/bob/history", ct)).StatusCode);
        foreach (var (query, title) in new[]
        {
            ("step=2m", "Invalid 'step'"),
            ("from=yesterday", "Invalid 'from'"),
            ($"from={Uri.EscapeDataString(at.ToString("O"))}&to={Uri.EscapeDataString(at.AddHours(-1).ToString("O"))}", "Invalid range"),
            ($"step=1s&from={from}", "Step not kept that far back"),
        })
        {
            var response = await alice.GetAsync($"/api/statistics/torrents/{InfoHash}/history?{query}", ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(title, (await response.Content.ReadFromJsonAsync<JsonElement>(ct)).GetProperty("title").GetString());
        }
    }
}
