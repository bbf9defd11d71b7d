using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using TorrentEdge.Contracts;
using TorrentEdge.PeerWorker.Infrastructure;
using TorrentEdge.PeerWorker.IntegrationEvents;
using TorrentEdge.PeerWorker.Ownership;
using TorrentEdge.PeerWorker.Reconciliation;
using TorrentEdge.PeerWorker.Runtime;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.PeerWorker.Extensions;

/// <summary>Registration of the worker: ownership by partition, the reconciler, the engine and the events it reports.</summary>
public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<PeerWorkerOptions>().BindConfiguration(PeerWorkerOptions.SectionName)
            // Development runs trackers and seeders on 127.0.0.1; everywhere else loopback is refused unless configured.
            .PostConfigure(o => o.Destinations.AllowLoopback ??= builder.Environment.IsDevelopment())
            // The public DHT routers are reached from Production only: nothing else run from this repository leaves 127.0.0.0/8.
            .PostConfigure(o => o.Dht.UseWellKnownRouters = builder.Environment.IsProduction() && (o.Dht.UseWellKnownRouters ?? true))
            .Validate(o =>
            {
                try
                {
                    o.Destinations.ToPolicy();
                    return true;
                }
                catch (FormatException)
                {
                    return false;
                }
            }, "PeerWorker:Destinations:Allow holds a network that is not in CIDR notation (such as 10.20.0.5/32).")
            .Validate(o =>
            {
                try
                {
                    o.LocalDiscovery.ToEngineOptions();
                    return true;
                }
                catch (FormatException)
                {
                    return false;
                }
            }, "PeerWorker:LocalDiscovery:InterfaceAddress is not an IP address.")
            .Validate(o => o.HasValidEngineLimits,
                "PeerWorker:MaxHalfOpenConnections, MaxPendingIncomingConnections, MaxConnectionsPerAddress, MaxPeerCandidates, " +
                "MaxLoopQueueLength and MaxActivePieceBytes must each be at least 1.")
            .ValidateOnStart();
        var group = builder.Configuration[$"{PeerWorkerOptions.SectionName}:{nameof(PeerWorkerOptions.ConsumerGroup)}"] ?? new PeerWorkerOptions().ConsumerGroup;

        builder.AddKafkaMessaging(cfg => cfg.AddConsumer<TorrentSpecConsumer>());
        // Each assigned partition is read from offset 0: the whole partition is the desired state of its torrents.
        builder.AddKafkaSubscription(Topics.TorrentSpecs, group, o => o.StartFromBeginningOnAssign = true);
        services.AddOptions<KafkaSubscriptionOptions>(KafkaSubscriptionOptions.NameFor(Topics.TorrentSpecs, group))
            .Configure<IOptions<PeerWorkerOptions>>((o, worker) => o.SessionTimeout = worker.Value.SessionTimeout ?? o.SessionTimeout);

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<DesiredTorrents>();
        services.AddSingleton<OwnedTorrents>();
        services.AddSingleton<PeerWorkerMetrics>();
        // Before the engine: every write and delete of a torrent's files asks it (docs/peerworker.md, Fencing).
        services.AddSingleton<TorrentFence>();
        services.AddSingleton<TorrentEdge.Engine.Storage.IStorageFence>(sp => sp.GetRequiredService<TorrentFence>());
        services.AddSingleton<EngineTorrentRuntime>();
        services.AddSingleton<ITorrentRuntime>(sp => sp.GetRequiredService<EngineTorrentRuntime>());
        services.AddSingleton<IKafkaPartitionListener, PartitionOwnership>();
        services.AddSingleton<CatalogServiceToken>();
        services.AddHttpClient<IMetainfoSource, CatalogMetainfoClient>(http => http.BaseAddress = new Uri(CatalogMetainfoClient.BaseAddress));

        // Hosted services stop in reverse order: the reconciler first (torrents stop, resume data saved, final status
        // queued), then the translator, then the outbox flushes, and only then the subscription leaves the group.
        // The outbox on disk, beside the resume data: what a replica could not publish survives it (see EventJournal).
        services.AddSingleton(sp =>
        {
            var worker = sp.GetRequiredService<IOptions<PeerWorkerOptions>>().Value;
            return new EventJournal(Path.Combine(worker.GetResumeRoot(), "outbox"), worker.ReplicaId);
        });
        services.AddSingleton(sp => new TorrentSequences(sp.GetRequiredService<IOptions<PeerWorkerOptions>>().Value.GetResumeRoot()));
        services.AddSingleton<TorrentEventOutbox>();
        services.AddHostedService(sp => sp.GetRequiredService<TorrentEventOutbox>());
        services.AddSingleton<TorrentEventTranslator>();
        services.AddHostedService(sp => sp.GetRequiredService<TorrentEventTranslator>());
        services.AddSingleton<TorrentReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<TorrentReconciler>());

        services.AddHealthChecks().AddCheck<RuntimeHealthCheck>("engine", tags: ["ready"])
            .AddCheck<FenceHealthCheck>("fencing", tags: ["ready"]);
        return builder;
    }
}
