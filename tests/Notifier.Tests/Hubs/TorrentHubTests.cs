using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.Notifier.Extensions;
using TorrentEdge.Notifier.Hubs;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Notifier.Tests.Hubs;

/// <summary>Events produced to Kafka reach the SignalR clients of their owners, through the Notifier's consumer group.</summary>
public sealed class TorrentHubTests : IAsyncLifetime
{
    private const string InfoHash = "0123456789abcdef0123456789abcdef01234567";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly EmbeddedKafka _kafka = EmbeddedKafka.Start();
    private WebApplicationFactory<Program> _factory = null!;

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
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _factory.DisposeAsync();
        _kafka.Dispose();
    }

    private async Task<(HubConnection Connection, Channel<(string Name, JsonElement Payload)> Received)> ConnectAsync(string user)
    {
        var received = Channel.CreateUnbounded<(string, JsonElement)>();
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(_factory.Server.BaseAddress, TorrentHub.Path + "?user=" + user), o =>
            {
                o.HttpMessageHandlerFactory = _ => _factory.Server.CreateHandler();
                o.Transports = HttpTransportType.LongPolling;
            })
            .Build();
        foreach (var name in new[] { TorrentHubEvents.Added, TorrentHubEvents.Progress, TorrentHubEvents.Piece, TorrentHubEvents.Complete })
        {
            connection.On<JsonElement>(name, payload => received.Writer.TryWrite((name, payload)));
        }
        await connection.StartAsync(TestContext.Current.CancellationToken);
        return (connection, received);
    }

    private async Task PublishAsync<TEvent>(TEvent @event) where TEvent : TorrentEvent
        => await _factory.Services.GetRequiredService<IIntegrationEventPublisher>()
            .PublishAsync(Topics.TorrentEvents, @event.InfoHash, @event, TestContext.Current.CancellationToken);

    private static async Task<(string Name, JsonElement Payload)> NextAsync(Channel<(string Name, JsonElement Payload)> received)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Timeout);
        return await received.Reader.ReadAsync(cts.Token);
    }

    [Fact]
    public async Task TorrentAdded_ProducedToKafka_ReachesOwnerOnly()
    {
        var (alice, aliceReceived) = await ConnectAsync("alice");
        var (bob, bobReceived) = await ConnectAsync("bob");

        await PublishAsync(new TorrentAdded(InfoHash, ["alice"], "ubuntu.iso", 1234, "worker-1"));
        await PublishAsync(new TorrentCompleted(InfoHash, ["alice", "bob"], 1234));

        var (name, payload) = await NextAsync(aliceReceived);
        Assert.Equal(TorrentHubEvents.Added, name);
        Assert.Equal(InfoHash, payload.GetProperty("infoHash").GetString());
        Assert.Equal("ubuntu.iso", payload.GetProperty("name").GetString());
        Assert.Equal(TorrentHubEvents.Complete, (await NextAsync(aliceReceived)).Name);
        // Bob owns only the completed torrent: the first thing he hears is its completion, never alice's "added".
        Assert.Equal(TorrentHubEvents.Complete, (await NextAsync(bobReceived)).Name);
        await alice.DisposeAsync();
        await bob.DisposeAsync();
    }

    [Fact]
    public async Task PiecesVerified_OnlySubscribedOwnersReceiveIt()
    {
        var (subscribed, subscribedReceived) = await ConnectAsync("alice");
        var (other, otherReceived) = await ConnectAsync("alice");
        await subscribed.InvokeAsync(nameof(TorrentHub.Subscribe), InfoHash, TestContext.Current.CancellationToken);

        await PublishAsync(new TorrentPiecesVerified(InfoHash, ["alice"], [3, 4], 2, 10));
        await PublishAsync(new TorrentProgressed(InfoHash, ["alice"], TorrentState.Downloading, 0.2, 200, 1000, 200, 0, 50, 0, 1, 2, 16, [], []));

        var piece = await NextAsync(subscribedReceived);
        Assert.Equal(TorrentHubEvents.Piece, piece.Name);
        Assert.Equal([3, 4], piece.Payload.GetProperty("pieces").EnumerateArray().Select(p => p.GetInt32()));
        Assert.Equal(TorrentHubEvents.Progress, (await NextAsync(subscribedReceived)).Name);
        // The unsubscribed connection of the same user gets the progress but not the piece batch before it.
        var progress = await NextAsync(otherReceived);
        Assert.Equal(TorrentHubEvents.Progress, progress.Name);
        Assert.Equal("Downloading", progress.Payload.GetProperty("state").GetString());
        await subscribed.DisposeAsync();
        await other.DisposeAsync();
    }

    [Fact]
    public async Task Progress_SharedDownloadWithPasskeyTracker_PushedWithTrackerOriginOnly()
    {
        var (bob, bobReceived) = await ConnectAsync("bob");
        const string passkeyUrl = "https://tracker.example:8443/a1b2c3passkey/announce?passkey=d4e5f6";

        await PublishAsync(new TorrentProgressed(InfoHash, ["alice", "bob"], TorrentState.Downloading, 0.2, 200, 1000, 200, 0, 50, 0, 1, 2, 16, [],
            [new TrackerStatus(passkeyUrl, "working", 3, 4, "refused by " + passkeyUrl)]));

        var (name, payload) = await NextAsync(bobReceived);
        Assert.Equal(TorrentHubEvents.Progress, name);
        var tracker = Assert.Single(payload.GetProperty("trackers").EnumerateArray().ToList());
        Assert.Equal("https://tracker.example:8443", tracker.GetProperty("url").GetString());
        Assert.Equal(3, tracker.GetProperty("seeders").GetInt32());
        Assert.DoesNotContain("passkey", payload.GetRawText(), StringComparison.OrdinalIgnoreCase);
        await bob.DisposeAsync();
    }

    [Fact]
    public async Task Connect_OutsideDevelopmentWithoutToken_Unauthorized()
    {
        await using var production = _factory.WithWebHostBuilder(b => b.UseEnvironment("Production"));
        using var client = production.CreateClient();

        // ?user= is a Development-only stand-in; in production the hub wants a bearer token.
        using var response = await client.PostAsync(TorrentHub.Path + "/negotiate?negotiateVersion=1&user=alice", null, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Subscribe_NotAnInfoHash_Rejected()
    {
        var (connection, _) = await ConnectAsync("alice");

        await Assert.ThrowsAsync<HubException>(() => connection.InvokeAsync(nameof(TorrentHub.Subscribe), "../../etc", TestContext.Current.CancellationToken));
        await connection.DisposeAsync();
    }
}
