using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TorrentEdge.Analytics.Tests.Apis;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.Notifier.Extensions;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Notifier.Tests.SocketIO;

/// <summary>
/// Notifier's Socket.IO endpoint on a real Kestrel socket, as deployed (Catalog's ES256 tokens), fed through Kafka,
/// with the real npm socket.io-client running the original design's client code.
/// </summary>
public sealed class SocketIoEndpointTests : IAsyncLifetime
{
    private const string Alice = "0123456789abcdef0123456789abcdef01234567";
    private const string Bob = "89abcdef0123456789abcdef0123456789abcdef";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly EmbeddedKafka _kafka = EmbeddedKafka.Start();
    private readonly TestTokens _tokens = new();
    private WebApplicationFactory<Program> _factory = null!;
    private Uri _address = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _kafka.CreateTopic(Topics.TorrentEvents, 2);
        _factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
            .UseEnvironment("Production")
            .UseSetting("ConnectionStrings:kafka", _kafka.BootstrapServers)
            .UseSetting("Auth:JwksUrl", TestTokens.JwksUrl)
            .ConfigureServices(s =>
            {
                s.AddHttpClient(DefaultAuthentication.JwksHttpClientName).ConfigurePrimaryHttpMessageHandler(_tokens.CreateJwksHandler);
                s.Configure<KafkaSubscriptionOptions>(KafkaSubscriptionOptions.NameFor(Topics.TorrentEvents, NotifierExtensions.ConsumerGroup),
                    o => o.AutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Earliest);
            }));
        _factory.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        _factory.StartServer();
        _address = new Uri(_factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
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
        _tokens.Dispose();
    }

    private async Task PublishAsync<TEvent>(TEvent @event) where TEvent : TorrentEvent
        => await _factory.Services.GetRequiredService<IIntegrationEventPublisher>().PublishAsync(Topics.TorrentEvents, @event.InfoHash, @event, Ct);

    private static async Task AuthenticatedAsync(NodeSocketIoClient client)
    {
        var ack = await client.WaitForAsync("authenticate:ack", null, Timeout, Ct);
        Assert.True(ack.Data.GetProperty("ok").GetBoolean(), ack.Data.ToString());
        await client.WaitForAsync("subscribe:ack", null, Timeout, Ct);
    }

    [Fact]
    public async Task OriginalClient_EveryDocumentedEvent_ReachesTheOwnerOnBothTransportsAndNothingReachesAnotherUser()
    {
        // Default transports (long-polling, then the upgrade to WebSocket), long-polling only, WebSocket only.
        await using var upgraded = NodeSocketIoClient.Start(_address, _tokens.Create("alice", "user"), [Alice]);
        await using var polling = NodeSocketIoClient.Start(_address, _tokens.Create("alice", "user"), [Alice], "polling");
        await using var webSocket = NodeSocketIoClient.Start(_address, _tokens.Create("alice", "user"), [Alice], "websocket");
        // Bob even subscribes to alice's torrent: a subscription never widens what a user is sent.
        await using var bob = NodeSocketIoClient.Start(_address, _tokens.Create("bob", "user"), [Alice, Bob]);
        foreach (var client in new[] { upgraded, polling, webSocket, bob })
        {
            await AuthenticatedAsync(client);
        }
        await upgraded.WaitForAsync("upgrade", d => d.GetProperty("transport").GetString() == "websocket", Timeout, Ct);

        await PublishAsync(new TorrentAdded(Alice, ["alice"], "ubuntu.iso", 1234, "worker-1"));
        await PublishAsync(new TorrentStateChanged(Alice, ["alice"], TorrentState.Downloading, "worker-1"));
        await PublishAsync(new TorrentProgressed(Alice, ["alice"], TorrentState.Downloading, 0.5, 617, 1234, 617, 0, 300, 20, 3, 7, 2, [], []) { Name = "ubuntu.iso" });
        await PublishAsync(new TorrentPiecesVerified(Alice, ["alice"], [3, 4], 6, 10));
        await PublishAsync(new TorrentCompleted(Alice, ["alice"], 1234) { Name = "ubuntu.iso" });
        await PublishAsync(new TorrentSeeding(Alice, ["alice"]) { Name = "ubuntu.iso", Ratio = 1.5 });
        await PublishAsync(new TorrentFailed(Alice, ["alice"], "disk full") { Name = "ubuntu.iso" });
        await PublishAsync(new TorrentAdded(Bob, ["bob"], "bob.iso", 1, "worker-1"));

        foreach (var client in new[] { upgraded, polling, webSocket })
        {
            Assert.Equal(Alice, (await client.WaitForAsync("torrent:added", null, Timeout, Ct)).Data.GetProperty("infoHash").GetString());
            var progress = (await client.WaitForAsync("torrent:progress", null, Timeout, Ct)).Data;
            Assert.Equal(("ubuntu.iso", 50.0, 3, 7), (progress.GetProperty("name").GetString(), progress.GetProperty("percentage").GetDouble(),
                progress.GetProperty("peers").GetProperty("connected").GetInt32(), progress.GetProperty("peers").GetProperty("total").GetInt32()));
            await client.WaitForAsync("torrent:piece", d => d.GetProperty("index").GetInt32() == 3, Timeout, Ct);
            await client.WaitForAsync("torrent:piece", d => d.GetProperty("index").GetInt32() == 4, Timeout, Ct);
            Assert.Equal("ubuntu.iso", (await client.WaitForAsync("torrent:complete", null, Timeout, Ct)).Data.GetProperty("name").GetString());
            Assert.Equal(1.5, (await client.WaitForAsync("torrent:seeding", null, Timeout, Ct)).Data.GetProperty("ratio").GetDouble());
            Assert.Equal("disk full", (await client.WaitForAsync("torrent:error", null, Timeout, Ct)).Data.GetProperty("message").GetString());
            var queue = (await client.WaitForAsync("queue:updated", null, Timeout, Ct)).Data.GetProperty("stats");
            Assert.Equal((1, 0), (queue.GetProperty("activeCount").GetInt32(), queue.GetProperty("queuedCount").GetInt32()));
            Assert.Single(client.Of("torrent:added"));
        }
        Assert.All(polling.Events.Where(e => e.Event.StartsWith("torrent:", StringComparison.Ordinal)), e => Assert.Equal("polling", e.Transport));
        Assert.All(webSocket.Events.Where(e => e.Event.StartsWith("torrent:", StringComparison.Ordinal)), e => Assert.Equal("websocket", e.Transport));

        // Bob's own event came after all of alice's: by then anything of hers would have reached him too.
        await bob.WaitForAsync("torrent:added", d => d.GetProperty("infoHash").GetString() == Bob, Timeout, Ct);
        Assert.DoesNotContain(bob.Events, e => e.Data.ValueKind == JsonValueKind.Object && e.Data.TryGetProperty("infoHash", out var h) && h.GetString() == Alice
            && e.Event != "subscribe:ack");
    }

    [Theory]
    [InlineData("not-a-token")]
    [InlineData("rs256")]
    [InlineData("expired")]
    public async Task Authenticate_BadToken_ErrorEventThenDisconnected(string kind)
    {
        var token = kind switch
        {
            "rs256" => _tokens.Create("alice", "user", DateTime.UtcNow.AddMinutes(5), rs256: true),
            "expired" => _tokens.Create("alice", "user", DateTime.UtcNow.AddMinutes(-2)),
            _ => kind,
        };
        await using var client = NodeSocketIoClient.Start(_address, token, [Alice]);

        var ack = await client.WaitForAsync("authenticate:ack", null, Timeout, Ct);
        Assert.False(ack.Data.GetProperty("ok").GetBoolean());
        Assert.Contains("token", (await client.WaitForAsync("error", null, Timeout, Ct)).Data.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal("io server disconnect", (await client.WaitForAsync("disconnect", null, Timeout, Ct)).Data.GetProperty("reason").GetString());
        Assert.DoesNotContain(client.Of("subscribe:ack"), a => a.Data.GetProperty("ok").GetBoolean());
    }

    [Fact]
    public async Task Connection_TokenExpires_DisconnectedByTheServer()
    {
        // JWT times are whole seconds, and validation allows 30 s of clock skew: a token that expires in 4 s is still
        // accepted, and the connection must end at its expiry.
        var expires = DateTime.UtcNow.AddSeconds(4);
        await using var client = NodeSocketIoClient.Start(_address, _tokens.Create("alice", "user", expires), [Alice], "websocket");
        await AuthenticatedAsync(client);

        var disconnect = await client.WaitForAsync("disconnect", null, Timeout, Ct);

        Assert.True("io server disconnect" == disconnect.Data.GetProperty("reason").GetString(), client.Summary() + " " + disconnect.Data);
        Assert.True(DateTime.UtcNow >= expires.AddSeconds(-1), "disconnected before the token expired");
        Assert.Contains("expired", client.Of("error").Single().Data.GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Handshake_OtherProtocolVersion_RefusedWithEngineIoError()
    {
        using var http = new HttpClient { BaseAddress = _address };

        using var response = await http.GetAsync("/socket.io/?EIO=3&transport=polling", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(5, JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct)).RootElement.GetProperty("code").GetInt32());
    }

    /// <summary>
    /// A raw WebSocket client that authenticates, subscribes and then never reads again, while progress and pieces
    /// stream: the node client beside it must keep its latency. Prints the figures (the issue asks to measure them).
    /// </summary>
    [Fact]
    public async Task StalledClient_StopsReading_AnotherClientKeepsItsLatency()
    {
        await using var healthy = NodeSocketIoClient.Start(_address, _tokens.Create("alice", "user"), [Alice], "websocket");
        await AuthenticatedAsync(healthy);
        var baseline = await MeasureLatencyAsync(healthy, rounds: 20, first: 0);

        using var stalled = new ClientWebSocket();
        // A tiny receive buffer so the kernel's buffers fill soon and the server's writes to it block.
        stalled.Options.SetBuffer(256, 256);
        await stalled.ConnectAsync(new Uri(new Uri(_address.ToString().Replace("http", "ws", StringComparison.Ordinal)), "/socket.io/?EIO=4&transport=websocket"), Ct);
        await SendAsync(stalled, "40");
        await SendAsync(stalled, "420[\"authenticate\",{\"token\":\"" + _tokens.Create("alice", "user") + "\"}]");
        await SendAsync(stalled, "421[\"subscribe:torrent\",{\"infoHash\":\"" + Alice + "\"}]");
        // ... and never reads: 20,000 pieces of about 150 bytes each are far beyond the socket buffers.
        var flood = Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
            {
                await PublishAsync(new TorrentPiecesVerified(Alice, ["alice"], [.. Enumerable.Range(i * 100, 100)], (i + 1) * 100, 20_000));
            }
        }, Ct);
        await flood;
        var withStalled = await MeasureLatencyAsync(healthy, rounds: 20, first: 1000);

        TestContext.Current.TestOutputHelper?.WriteLine($"healthy client latency, p50/max ms: alone {baseline.P50}/{baseline.Max}, beside a stalled client {withStalled.P50}/{withStalled.Max}");
        Assert.True(withStalled.P50 <= Math.Max(50, baseline.P50 * 5), $"p50 {withStalled.P50} ms beside a stalled client, {baseline.P50} ms alone");
        // The healthy client received every piece of the flood: the stalled one held nobody up.
        await healthy.WaitForAsync("torrent:piece", d => d.GetProperty("index").GetInt32() == 19_999, Timeout, Ct);
    }

    /// <summary>The same on the hub: a raw WebSocket hub client that subscribes and stops reading, beside the typed client.</summary>
    [Fact]
    public async Task StalledHubClient_StopsReading_AnotherHubClientKeepsItsLatency()
    {
        var token = _tokens.Create("alice", "user");
        await using var healthy = new TorrentEdge.Notifier.Client.TorrentEventsClient(_address, () => Task.FromResult<string?>(token),
            o => o.Transports = Microsoft.AspNetCore.Http.Connections.HttpTransportType.WebSockets);
        await healthy.StartAsync(Ct);
        await healthy.SubscribeAsync(Alice, Ct);
        var baseline = await MeasureHubLatencyAsync(healthy, rounds: 20, first: 0);

        using var stalled = new ClientWebSocket();
        stalled.Options.SetBuffer(256, 256);
        await stalled.ConnectAsync(new Uri(new Uri(_address.ToString().Replace("http", "ws", StringComparison.Ordinal)), "/hubs/torrents?access_token=" + token), Ct);
        await SendAsync(stalled, "{\"protocol\":\"json\",\"version\":1}\u001e");
        await SendAsync(stalled, "{\"type\":1,\"target\":\"Subscribe\",\"arguments\":[\"" + Alice + "\"]}\u001e");
        for (var i = 0; i < 200; i++)
        {
            await PublishAsync(new TorrentPiecesVerified(Alice, ["alice"], [.. Enumerable.Range(i * 100, 100)], (i + 1) * 100, 20_000));
        }
        var withStalled = await MeasureHubLatencyAsync(healthy, rounds: 20, first: 1000);

        TestContext.Current.TestOutputHelper?.WriteLine($"healthy hub client latency, p50/max ms: alone {baseline.P50}/{baseline.Max}, beside a stalled client {withStalled.P50}/{withStalled.Max}");
        Assert.True(withStalled.P50 <= Math.Max(50, baseline.P50 * 5), $"p50 {withStalled.P50} ms beside a stalled client, {baseline.P50} ms alone");
    }

    private async Task<(long P50, long Max)> MeasureHubLatencyAsync(TorrentEdge.Notifier.Client.TorrentEventsClient client, int rounds, int first)
    {
        var latencies = new List<long>();
        for (var i = 0; i < rounds; i++)
        {
            var clock = Stopwatch.StartNew();
            var name = $"probe-{first + i}";
            await PublishAsync(new TorrentAdded(Alice, ["alice"], name, 1, "worker-1"));
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            cts.CancelAfter(Timeout);
            while ((await client.Events.ReadAsync(cts.Token)).Payload is not TorrentEdge.Contracts.Live.TorrentAddedPayload { Name: var n } || n != name)
            {
            }
            latencies.Add(clock.ElapsedMilliseconds);
        }
        latencies.Sort();
        return (latencies[latencies.Count / 2], latencies[^1]);
    }

    private async Task<(long P50, long Max)> MeasureLatencyAsync(NodeSocketIoClient client, int rounds, int first)
    {
        var latencies = new List<long>();
        for (var i = 0; i < rounds; i++)
        {
            var sent = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var name = $"probe-{first + i}";
            await PublishAsync(new TorrentAdded(Alice, ["alice"], name, 1, "worker-1"));
            var got = await client.WaitForAsync("torrent:added", d => d.GetProperty("name").GetString() == name, Timeout, Ct);
            latencies.Add(got.At - sent);
        }
        latencies.Sort();
        return (latencies[latencies.Count / 2], latencies[^1]);
    }

    private static Task SendAsync(ClientWebSocket socket, string text)
        => socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, Ct);
}
