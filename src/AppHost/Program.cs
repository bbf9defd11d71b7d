using TorrentEdge.AppHost;
using TorrentEdge.AppHost.Resources;

var builder = DistributedApplication.CreateBuilder(args);
if (!SuiteOptions.TryRead(builder.Configuration, builder.Environment, out var suite, out var error)
    || PortGuard.FirstTaken(suite, builder.Configuration) is { } taken && (error = taken) is not null)
{
    Console.Error.WriteLine(error);
    return 2;
}

// Infrastructure: embedded unless a connection string names an external one.
var kafka = builder.AddKafka(Topology.Kafka);
var redis = builder.AddRedis(Topology.Redis, suite);
var catalogDb = builder.AddDatabase(Topology.CatalogDb, suite);
var analyticsDb = builder.AddDatabase(Topology.AnalyticsDb, suite);
var peerWorkerSecret = builder.AddServiceSecret(Topology.PeerWorkerSecret);

var catalog = builder.AddService<Projects.Catalog>(Topology.Catalog, suite)
    .WithReference(kafka).WaitFor(kafka)
    .WithReference(catalogDb).WaitFor(catalogDb)
    .WithOptionalReference(redis)
    .WithEnvironment("Auth__ServiceClients__peerworker", peerWorkerSecret);

var analytics = builder.AddService<Projects.Analytics>(Topology.Analytics, suite)
    .WithReference(kafka).WaitFor(kafka)
    .WithReference(analyticsDb).WaitFor(analyticsDb)
    .WithOptionalReference(redis)
    .WithReference(catalog).WaitFor(catalog);

var notifier = builder.AddService<Projects.Notifier>(Topology.Notifier, suite)
    .WithReference(kafka).WaitFor(kafka)
    .WithOptionalReference(redis)
    .WithReference(catalog).WaitFor(catalog);

builder.AddService<Projects.PeerWorker>(Topology.PeerWorker, suite)
    .WithReplicas(suite.Workers)
    .WithReference(kafka).WaitFor(kafka)
    .WithReference(catalog).WaitFor(catalog)
    .WithEnvironment("PeerWorker__CatalogClientId", "peerworker")
    .WithEnvironment("PeerWorker__CatalogClientSecret", peerWorkerSecret)
    .WithEnvironment("PeerWorker__DownloadRoot", suite.DownloadRoot)
    .WithEnvironment("PeerWorker__ResumeRoot", suite.ResumeRoot)
    // Replicas on one machine share the range: each takes the first free port from the start.
    .WithEnvironment("PeerWorker__PeerPort", Topology.PeerPortRangeStart.ToString(System.Globalization.CultureInfo.InvariantCulture))
    .WithEnvironment("PeerWorker__PeerPortMax", Topology.PeerPortRangeEnd.ToString(System.Globalization.CultureInfo.InvariantCulture));

builder.AddService<Projects.Gateway>(Topology.Gateway, suite, port: suite.GatewayPort)
    .WithExternalHttpEndpoints()
    .WithReference(catalog).WaitFor(catalog)
    .WithReference(analytics)
    .WithReference(notifier)
    .AnnounceWhenReady();

builder.AnnounceWhenAllHealthy();
builder.Build().Run();
return 0;
