using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TorrentEdge.Analytics.Tests.Apis;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Live;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.Notifier.Client;
using TorrentEdge.Notifier.Extensions;
using TorrentEdge.Notifier.Tests.SocketIO;
using TorrentEdge.Notifier.Tests.Support;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Notifier.Tests.Live;

/// <summary>
/// Two Notifier replicas in one consumer group (each consumes some partitions) on a real redis-server: clients of
/// either replica, on either transport, receive every event exactly once.
/// </summary>
public sealed class ScaleOutTests : IAsyncLifetime
{
    // Two torrents on the two partitions, so each replica consumes events its own clients and the other's need.
    private static readonly string[] Hashes = ["0123456789abcdef0123456789abcdef01234567", "89abcdef0123456789abcdef0123456789abcdef"];
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    private readonly EmbeddedKafka _kafka = EmbeddedKafka.Start();
    private readonly TestTokens _tokens = new();
    private RedisServer _redis = null!;
    private readonly List<WebApplicationFactory<Program>> _replicas = [];
    private readonly List<Uri> _addresses = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        Assert.True(RedisServer.IsInstalled, "needs Debian's redis-server (scripts/test.sh installs it)");
        _redis = await RedisServer.StartAsync(Ct);
        _kafka.CreateTopic(Topics.TorrentEvents, 2);
        for (var i = 0; i < 2; i++)
        {
            var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(b => b
                .UseEnvironment("Production")
                .UseSetting("ConnectionStrings:kafka", _kafka.BootstrapServers)
                .UseSetting("ConnectionStrings:redis", _redis.ConnectionString)
                .UseSetting("Auth:JwksUrl", TestTokens.JwksUrl)
                .ConfigureServices(s =>
                {
                    s.AddHttpClient(DefaultAuthentication.JwksHttpClientName).ConfigurePrimaryHttpMessageHandler(_tokens.CreateJwksHandler);
                    s.Configure<KafkaSubscriptionOptions>(KafkaSubscriptionOptions.NameFor(Topics.TorrentEvents, NotifierExtensions.ConsumerGroup),
                        o => o.AutoOffsetReset = Confluent.Kafka.AutoOffsetReset.Earliest);
                }));
            factory.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
            factory.StartServer();
            _replicas.Add(factory);
            _addresses.Add(new Uri(factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()));
        }
        // Produce once the group is settled: the two partitions assigned, one to each replica.
        var states = _replicas.Select(r => r.Services.GetRequiredService<KafkaSubscriptionState>()).ToList();
        var clock = Stopwatch.StartNew();
        while (!(states.All(s => s.AssignedPartitions.Count == 1) && states.SelectMany(s => s.AssignedPartitions).Distinct().Count() == 2))
        {
            Assert.True(clock.Elapsed < Timeout, "the partitions were not split between the replicas: "
                + string.Join(" / ", states.Select(s => string.Join(',', s.AssignedPartitions))));
            await Task.Delay(100, Ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }
        _redis.Dispose();
        _kafka.Dispose();
        _tokens.Dispose();
    }

    [Fact]
    public async Task TwoReplicasOnRedis_EveryClientOnEitherReplicaAndTransport_ReceivesEveryEventOnce()
    {
        const int Events = 40;
        var token = _tokens.Create("alice", "user");
        await using var pollingOnA = NodeSocketIoClient.Start(_addresses[0], token, Hashes, "polling");
        await using var webSocketOnB = NodeSocketIoClient.Start(_addresses[1], token, Hashes, "websocket");
        await using var upgradedOnB = NodeSocketIoClient.Start(_addresses[1], token, Hashes);
        var socketIo = new[] { pollingOnA, webSocketOnB, upgradedOnB };
        foreach (var client in socketIo)
        {
            Assert.True((await client.WaitForAsync("authenticate:ack", null, Timeout, Ct)).Data.GetProperty("ok").GetBoolean());
        }
        var signalR = new List<TorrentEventsClient>();
        foreach (var address in _addresses)
        {
            var client = new TorrentEventsClient(address, () => Task.FromResult<string?>(token), o => o.Transports = HttpTransportType.WebSockets);
            await client.StartAsync(Ct);
            signalR.Add(client);
        }

        var publisher = _replicas[0].Services.GetRequiredService<IIntegrationEventPublisher>();
        for (var i = 0; i < Events; i++)
        {
            var hash = Hashes[i % 2];
            await publisher.PublishAsync(Topics.TorrentEvents, hash, new TorrentAdded(hash, ["alice"], $"e-{i}", i, "worker-1"), Ct);
        }

        var names = Enumerable.Range(0, Events).Select(i => $"e-{i}").ToHashSet();
        foreach (var client in socketIo)
        {
            await client.WaitForAsync("torrent:added", d => d.GetProperty("name").GetString() == $"e-{Events - 1}", Timeout, Ct);
            await client.WaitForAsync("torrent:added", d => d.GetProperty("name").GetString() == $"e-{Events - 2}", Timeout, Ct);
        }
        var received = new List<List<string>>();
        foreach (var client in signalR)
        {
            var got = new List<string>();
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            cts.CancelAfter(Timeout);
            while (got.Count < Events)
            {
                if ((await client.Events.ReadAsync(cts.Token)).Payload is TorrentAddedPayload added)
                {
                    got.Add(added.Name!);
                }
            }
            received.Add(got);
        }
        // Anything sent twice would have arrived by now.
        await Task.Delay(1000, Ct);
        foreach (var client in socketIo)
        {
            received.Add([.. client.Of("torrent:added").Select(e => e.Data.GetProperty("name").GetString()!)]);
        }
        for (var c = 0; c < signalR.Count; c++)
        {
            while (signalR[c].Events.TryRead(out var more))
            {
                if (more.Payload is TorrentAddedPayload added)
                {
                    received[c].Add(added.Name!);
                }
            }
        }

        Assert.All(received, got =>
        {
            Assert.Equal(Events, got.Count);
            Assert.Equal(names, got.ToHashSet());
        });
        foreach (var client in signalR)
        {
            await client.DisposeAsync();
        }
    }
}
