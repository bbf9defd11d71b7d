using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Analytics.Tests.Apis;

/// <summary>Events produced to Kafka change what <c>/api/statistics</c> serves.</summary>
public sealed class StatisticsApiTests : IAsyncLifetime
{
    private const string InfoHash = "0123456789abcdef0123456789abcdef01234567";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly EmbeddedKafka _kafka = EmbeddedKafka.Start();
    private WebApplicationFactory<Program> _factory = null!;

    public ValueTask InitializeAsync()
    {
        _kafka.CreateTopic(Topics.TorrentEvents, 2);
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b.UseSetting("ConnectionStrings:kafka", _kafka.BootstrapServers));
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        _kafka.Dispose();
    }

    [Fact]
    public async Task TorrentEvents_ProducedToKafka_StatisticsChange()
    {
        using var client = _factory.CreateClient();
        var ct = TestContext.Current.CancellationToken;
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/statistics/torrents/{InfoHash}", ct)).StatusCode);
        var before = await client.GetFromJsonAsync<JsonElement>("/api/statistics", ct);
        Assert.Equal(0, before.GetProperty("totals").GetProperty("torrents").GetInt32());

        var publisher = _factory.Services.GetRequiredService<IIntegrationEventPublisher>();
        await publisher.PublishAsync(Topics.TorrentEvents, InfoHash, new TorrentAdded(InfoHash, ["alice"], "debian.iso", 4096, "w1"), ct);
        await publisher.PublishAsync(Topics.TorrentEvents, InfoHash,
            new TorrentProgressed(InfoHash, ["alice"], TorrentState.Downloading, 0.5, 2048, 4096, 2048, 128, 512, 64, 2, 7, 4, [], []), ct);
        await publisher.PublishAsync(Topics.TorrentEvents, InfoHash, new TorrentCompleted(InfoHash, ["alice"], 4096), ct);

        // The group joins and reads from the beginning (earliest), so the events arrive whatever the timing.
        JsonElement statistics;
        var clock = Stopwatch.StartNew();
        do
        {
            Assert.True(clock.Elapsed < Timeout, "the statistics never showed the completed torrent");
            await Task.Delay(100, ct);
            statistics = await client.GetFromJsonAsync<JsonElement>("/api/statistics", ct);
        }
        while (statistics.GetProperty("totals").GetProperty("completed").GetInt32() < 1);

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
}
