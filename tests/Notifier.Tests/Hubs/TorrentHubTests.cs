using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Live;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.Notifier.Client;
using TorrentEdge.Notifier.Extensions;
using TorrentEdge.Notifier.Hubs;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Notifier.Tests.Hubs;

/// <summary>Events produced to Kafka reach the SignalR clients of their owners, through the Notifier's consumer group, as the typed client reads them.</summary>
public sealed class TorrentHubTests : IAsyncLifetime
{
    private const string InfoHash = "0123456789abcdef0123456789abcdef01234567";
    private const string Other = "89abcdef0123456789abcdef0123456789abcdef";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly EmbeddedKafka _kafka = EmbeddedKafka.Start();
    private WebApplicationFactory<Program> _factory = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _kafka.CreateTopic(Topics.TorrentEvents, 2);
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b =>
        {
            b.UseEnvironment("Development");
            b.UseSetting("ConnectionStrings:kafka", _kafka.BootstrapServers);
            // The service starts a new group at the end of the topic; a message produced while the consumer is still
            // resolving that offset would be skipped. Each test has its own fresh cluster, so read from the start.
            b.ConfigureServices(s => s.Configure<KafkaSubscriptionOptions>(
                KafkaSubscriptionOptions.NameFor(Topics.TorrentEvents, NotifierExtensions.ConsumerGroup),
                o => o.AutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Earliest));
        });
        _ = _factory.Server;
        // The group starts at the end of the topic: produce only once it owns the partitions.
        var state = _factory.Services.GetRequiredService<KafkaSubscriptionState>();
        var clock = Stopwatch.StartNew();
        while (state.AssignedPartitions.Count < 2)
        {
            Assert.True(clock.Elapsed < Timeout, "the notifier group was never assigned its partitions");
            await Task.Delay(50, Ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        _kafka.Dispose();
    }

    private async Task<TorrentEventsClient> ConnectAsync(string user)
    {
        var client = new TorrentEventsClient(_factory.Server.BaseAddress, () => Task.FromResult<string?>(null), o =>
        {
            o.Url = new Uri(o.Url + "?user=" + user);
            o.HttpMessageHandlerFactory = _ => _factory.Server.CreateHandler();
            o.Transports = HttpTransportType.LongPolling;
        });
        await client.StartAsync(Ct);
        return client;
    }

    private async Task PublishAsync<TEvent>(TEvent @event) where TEvent : TorrentEvent
        => await _factory.Services.GetRequiredService<IIntegrationEventPublisher>()
            .PublishAsync(Topics.TorrentEvents, @event.InfoHash, @event, Ct);

    private static async Task<LiveEvent> NextAsync(TorrentEventsClient client)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(Timeout);
        return await client.Events.ReadAsync(cts.Token);
    }

    [Fact]
    public async Task EveryKind_ProducedToKafka_ReachesTheOwnerWithTheDocumentedPayloads()
    {
        await using var alice = await ConnectAsync("alice");
        await using var bob = await ConnectAsync("bob");
        await alice.SubscribeAsync(InfoHash, Ct);

        await PublishAsync(new TorrentAdded(InfoHash, ["alice"], "ubuntu.iso", 1234, "worker-1"));
        await PublishAsync(new TorrentStateChanged(InfoHash, ["alice"], TorrentState.Downloading, "worker-1"));
        await PublishAsync(new TorrentProgressed(InfoHash, ["alice"], TorrentState.Downloading, 0.5, 617, 1234, 617, 0, 300, 20, 3, 7, 2, [], []) { Name = "ubuntu.iso" });
        await PublishAsync(new TorrentPiecesVerified(InfoHash, ["alice"], [3, 4], 6, 10));
        await PublishAsync(new TorrentCompleted(InfoHash, ["alice"], 1234) { Name = "ubuntu.iso" });
        await PublishAsync(new TorrentSeeding(InfoHash, ["alice"]) { Name = "ubuntu.iso", Ratio = 1.5, UploadedBytes = 1851 });
        await PublishAsync(new TorrentFailed(InfoHash, ["alice"], "disk full") { Name = "ubuntu.iso" });
        // Bob's only event comes last: if anything of alice's had reached him, it would come first.
        await PublishAsync(new TorrentAdded(Other, ["bob"], "bob.iso", 1, "worker-1"));

        Assert.Equal(InfoHash, Assert.IsType<TorrentAddedPayload>((await NextAsync(alice)).Payload).InfoHash);
        Assert.IsType<TorrentStatePayload>((await NextAsync(alice)).Payload);
        var queue = Assert.IsType<QueueUpdatedPayload>((await NextAsync(alice)).Payload);
        Assert.Equal(new QueueStats(1, 0), queue.Stats);
        var progress = Assert.IsType<TorrentProgressPayload>((await NextAsync(alice)).Payload);
        Assert.Equal(("ubuntu.iso", 50.0, 300L, 20L, new PeerCounts(3, 7)), (progress.Name, progress.Percentage, progress.DownloadSpeed, progress.UploadSpeed, progress.Peers));
        var first = Assert.IsType<TorrentPiecePayload>((await NextAsync(alice)).Payload);
        var second = Assert.IsType<TorrentPiecePayload>((await NextAsync(alice)).Payload);
        Assert.Equal((3, 5, 10), (first.Index, first.VerifiedCount, first.PieceCount));
        Assert.Equal((4, 6, 10), (second.Index, second.VerifiedCount, second.PieceCount));
        Assert.Equal("ubuntu.iso", Assert.IsType<TorrentCompletePayload>((await NextAsync(alice)).Payload).Name);
        var seeding = Assert.IsType<TorrentSeedingPayload>((await NextAsync(alice)).Payload);
        Assert.Equal(("ubuntu.iso", 1.5), (seeding.Name, seeding.Ratio));
        Assert.Equal("disk full", Assert.IsType<TorrentErrorPayload>((await NextAsync(alice)).Payload).Message);
        // The failure took the torrent out of the running ones.
        Assert.Equal(new QueueStats(0, 0), Assert.IsType<QueueUpdatedPayload>((await NextAsync(alice)).Payload).Stats);

        Assert.Equal(Other, Assert.IsType<TorrentAddedPayload>((await NextAsync(bob)).Payload).InfoHash);
    }

    [Fact]
    public async Task QueueUpdated_TwoTorrentsOfOneUser_CarriesTheUsersTotals()
    {
        await using var alice = await ConnectAsync("alice");

        await PublishAsync(new TorrentStateChanged(InfoHash, ["alice"], TorrentState.Downloading, "worker-1"));
        await PublishAsync(new TorrentQueueChanged(Other, ["alice"], "worker-2", 1, TorrentState.Queued));

        var totals = new List<QueueUpdatedPayload>();
        while (totals.Count < 2)
        {
            if ((await NextAsync(alice)).Payload is QueueUpdatedPayload q)
            {
                totals.Add(q);
            }
        }
        // Two torrents, two partitions: either may come first, but the second always counts both.
        Assert.Contains(totals[0].Stats, new[] { new QueueStats(1, 0), new QueueStats(0, 1) });
        Assert.Equal(new QueueStats(1, 1), totals[1].Stats);
        Assert.Equal(1, totals.Single(t => t.InfoHash == Other).Position);
    }

    [Fact]
    public async Task PiecesVerified_OnlySubscribedOwnersReceiveIt()
    {
        await using var subscribed = await ConnectAsync("alice");
        await using var other = await ConnectAsync("alice");
        await subscribed.SubscribeAsync(InfoHash, Ct);

        await PublishAsync(new TorrentPiecesVerified(InfoHash, ["alice"], [3, 4], 2, 10));
        await PublishAsync(new TorrentProgressed(InfoHash, ["alice"], TorrentState.Downloading, 0.2, 200, 1000, 200, 0, 50, 0, 1, 2, 16, [], []));

        Assert.Equal(3, Assert.IsType<TorrentPiecePayload>((await NextAsync(subscribed)).Payload).Index);
        Assert.Equal(4, Assert.IsType<TorrentPiecePayload>((await NextAsync(subscribed)).Payload).Index);
        Assert.IsType<TorrentProgressPayload>((await NextAsync(subscribed)).Payload);
        // The unsubscribed connection of the same user gets the progress but not the pieces before it.
        var progress = Assert.IsType<TorrentProgressPayload>((await NextAsync(other)).Payload);
        Assert.Equal("Downloading", progress.State);
    }

    [Fact]
    public async Task Progress_SharedDownloadWithPasskeyTracker_NoTrackerUrlPushed()
    {
        await using var bob = await ConnectAsync("bob");
        const string passkeyUrl = "https://tracker.example:8443/a1b2c3passkey/announce?passkey=d4e5f6";

        await PublishAsync(new TorrentProgressed(InfoHash, ["alice", "bob"], TorrentState.Downloading, 0.2, 200, 1000, 200, 0, 50, 0, 1, 2, 16, [],
            [new TrackerStatus(passkeyUrl, "working", 3, 4, "refused by " + passkeyUrl)]));

        // Co-owners must not see each other's announce URLs: the live payload carries no tracker at all.
        var progress = Assert.IsType<TorrentProgressPayload>((await NextAsync(bob)).Payload);
        Assert.DoesNotContain("passkey", System.Text.Json.JsonSerializer.Serialize(progress), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Connect_OutsideDevelopmentWithoutToken_Unauthorized()
    {
        await using var production = _factory.WithWebHostBuilder(b => b.UseEnvironment("Production"));
        using var client = production.CreateClient();

        // ?user= is a Development-only stand-in; in production the hub wants a bearer token.
        using var response = await client.PostAsync(TorrentHub.Path + "/negotiate?negotiateVersion=1&user=alice", null, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Subscribe_NotAnInfoHash_Rejected()
    {
        await using var connection = await ConnectAsync("alice");

        await Assert.ThrowsAsync<HubException>(() => connection.SubscribeAsync("../../etc", Ct));
    }
}
