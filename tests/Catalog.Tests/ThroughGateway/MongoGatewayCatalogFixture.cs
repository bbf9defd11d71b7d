using Microsoft.AspNetCore.Hosting;
using MongoDB.Driver;
using TorrentEdge.Catalog.Tests.Infrastructure;

namespace TorrentEdge.Catalog.Tests.ThroughGateway;

/// <summary>
/// The Gateway in front of Catalog on MongoDB (a database of its own on the server of <see cref="MongoServer"/>):
/// the same API cases as on SQLite. Without a server (no <c>TORRENTEDGE_TEST_MONGODB</c>, no Docker) every case is
/// skipped with the reason.
/// </summary>
public sealed class MongoGatewayCatalogFixture() : GatewayCatalogFixture(new MongoCatalogFactory())
{
    private MongoCatalogFactory MongoCatalog => (MongoCatalogFactory)Catalog;

    public override string? SkipReason => MongoCatalog.SkipReason;

    public override async ValueTask InitializeAsync()
    {
        var (connectionString, reason) = await MongoServer.TryGetConnectionStringAsync();
        if (connectionString is null)
        {
            MongoCatalog.SkipReason = reason;
            return;
        }
        MongoCatalog.ConnectionString = new MongoUrlBuilder(connectionString) { DatabaseName = "catalog_gw_" + Guid.NewGuid().ToString("N") }.ToString();
        await base.InitializeAsync();
    }

    private sealed class MongoCatalogFactory() : CatalogFactory(kestrel: true)
    {
        public string? ConnectionString { get; set; }

        public string? SkipReason { get; set; }

        protected override void Configure(IWebHostBuilder builder) =>
            builder.UseSetting("ConnectionStrings:catalogdb", ConnectionString ?? throw new InvalidOperationException(SkipReason));
    }
}
