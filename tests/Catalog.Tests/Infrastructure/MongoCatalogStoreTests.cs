using TorrentEdge.Catalog.Infrastructure;

namespace TorrentEdge.Catalog.Tests.Infrastructure;

/// <summary>
/// The store contract on MongoDB: a server from <c>TORRENTEDGE_TEST_MONGODB</c> (a connection string), else a
/// Testcontainers MongoDB where Docker answers; skipped with the reason when neither is there.
/// </summary>
public sealed class MongoCatalogStoreTests : CatalogStoreContractTests
{
    protected override async Task<ICatalogStore> CreateStoreAsync()
    {
        var connectionString = await MongoServer.GetConnectionStringAsync();
        // A database per test keeps the tests independent on one server.
        var store = new MongoCatalogStore(connectionString, "catalog_test_" + Guid.NewGuid().ToString("N"));
        await store.InitializeAsync(Ct);
        return store;
    }
}
