using System.Net;
using System.Net.Http.Json;
using TorrentEdge.Catalog.Apis;
using TorrentEdge.Catalog.Tests.ThroughGateway;
using static TorrentEdge.Catalog.Tests.Apis.ProblemAssert;

namespace TorrentEdge.Catalog.Tests.Apis;

/// <summary>Per-user quotas on torrents and bytes, with admin overrides (issue 16). Run directly and through the real Gateway.</summary>
public abstract class QuotasApiCases
{
    private readonly ICatalogApiHost _host;

    protected QuotasApiCases(ICatalogApiHost host)
    {
        if (host.SkipReason is { } reason)
        {
            Assert.Skip(reason);
        }
        _host = host;
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private static async Task<string> IdOfAsync(HttpClient user) =>
        (await IsAsync<UserView>(await user.GetAsync("/api/auth/me", Ct), HttpStatusCode.OK)).Id;

    [Fact]
    public async Task Add_BeyondTorrentQuota_ForbiddenProblemUntilOneIsRemoved()
    {
        var admin = await _host.AdminAsync();
        var user = await _host.UserAsync();
        var id = await IdOfAsync(user);
        var set = await IsAsync<UserView>(await admin.PutAsJsonAsync($"/api/admin/users/{id}/quota", new { maxTorrents = 2 }, Ct), HttpStatusCode.OK);
        Assert.Equal(2, set.MaxTorrents);

        var first = TestTorrents.Single(Unique("q1"));
        await IsAsync<TorrentView>(await TorrentsApiCases.UploadAsync(user, first.Bytes), HttpStatusCode.Created);
        await IsAsync<TorrentView>(await user.PostAsJsonAsync("/api/torrents", new { magnetURI = $"magnet:?xt=urn:btih:{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())}00000000" }, Ct),
            HttpStatusCode.Created);
        // Adding one already owned again is not a new torrent.
        await IsAsync<TorrentView>(await TorrentsApiCases.UploadAsync(user, first.Bytes), HttpStatusCode.OK);

        var third = TestTorrents.Single(Unique("q3"));
        var problem = await IsProblemAsync(await TorrentsApiCases.UploadAsync(user, third.Bytes), HttpStatusCode.Forbidden, "Torrent quota exceeded");
        Assert.Equal(2, problem.GetProperty("limit").GetInt64());
        Assert.Equal(2, problem.GetProperty("used").GetInt64());
        await IsProblemAsync(await user.GetAsync($"/api/torrents/{third.InfoHash}", Ct), HttpStatusCode.NotFound);

        // Becoming a co-owner of someone else's download counts too.
        var other = await _host.UserAsync();
        var theirs = TestTorrents.Single(Unique("theirs"));
        await IsAsync<TorrentView>(await TorrentsApiCases.UploadAsync(other, theirs.Bytes), HttpStatusCode.Created);
        await IsProblemAsync(await TorrentsApiCases.UploadAsync(user, theirs.Bytes), HttpStatusCode.Forbidden, "Torrent quota exceeded");

        Assert.Equal(HttpStatusCode.NoContent, (await user.DeleteAsync($"/api/torrents/{first.InfoHash}", Ct)).StatusCode);
        await IsAsync<TorrentView>(await TorrentsApiCases.UploadAsync(user, third.Bytes), HttpStatusCode.Created);

        // Back to the configured default (1000): no longer limited at 2.
        var reset = await IsAsync<UserView>(await admin.PutAsJsonAsync($"/api/admin/users/{id}/quota", new { maxTorrents = (long?)null }, Ct), HttpStatusCode.OK);
        Assert.Null(reset.MaxTorrents);
        await IsAsync<TorrentView>(await TorrentsApiCases.UploadAsync(user, theirs.Bytes), HttpStatusCode.Created);
    }

    [Fact]
    public async Task Add_BeyondByteQuota_ForbiddenProblem()
    {
        var admin = await _host.AdminAsync();
        var user = await _host.UserAsync();
        var id = await IdOfAsync(user);
        await IsAsync<UserView>(await admin.PutAsJsonAsync($"/api/admin/users/{id}/quota", new { maxBytes = 100_000 }, Ct), HttpStatusCode.OK);

        await IsAsync<TorrentView>(await TorrentsApiCases.UploadAsync(user, TestTorrents.Single(Unique("b1"), length: 60_000).Bytes), HttpStatusCode.Created);
        var problem = await IsProblemAsync(await TorrentsApiCases.UploadAsync(user, TestTorrents.Single(Unique("b2"), length: 60_000).Bytes),
            HttpStatusCode.Forbidden, "Storage quota exceeded");
        Assert.Equal(100_000, problem.GetProperty("limit").GetInt64());
        Assert.Equal(60_000, problem.GetProperty("used").GetInt64());
        await IsAsync<TorrentView>(await TorrentsApiCases.UploadAsync(user, TestTorrents.Single(Unique("b3"), length: 40_000).Bytes), HttpStatusCode.Created);
    }

    [Fact]
    public async Task SetQuota_BadInputOrUnknownUserOrNotAdmin_Problems()
    {
        var admin = await _host.AdminAsync();
        var user = await _host.UserAsync();
        var id = await IdOfAsync(user);
        await IsProblemAsync(await admin.PutAsJsonAsync($"/api/admin/users/{id}/quota", new { maxTorrents = -1 }, Ct), HttpStatusCode.BadRequest, "Invalid quota");
        await IsProblemAsync(await admin.PutAsJsonAsync("/api/admin/users/nobody/quota", new { maxTorrents = 1 }, Ct), HttpStatusCode.NotFound);
        await IsProblemAsync(await user.PutAsJsonAsync($"/api/admin/users/{id}/quota", new { maxTorrents = 100_000 }, Ct), HttpStatusCode.Forbidden);
    }
}

/// <summary>The quota cases against Catalog itself.</summary>
public sealed class QuotasApiTests(CatalogFactory factory) : QuotasApiCases(factory), IClassFixture<CatalogFactory>;

/// <summary>The quota cases through the real Gateway in front of a real Catalog.</summary>
public sealed class QuotasApiThroughGatewayTests(GatewayCatalogFixture fixture) : QuotasApiCases(fixture), IClassFixture<GatewayCatalogFixture>;

/// <summary>The quota cases through the real Gateway on MongoDB (skipped without a server).</summary>
public sealed class QuotasApiThroughGatewayOnMongoTests(MongoGatewayCatalogFixture fixture) : QuotasApiCases(fixture), IClassFixture<MongoGatewayCatalogFixture>;

/// <summary>The configured default applies to users without an override.</summary>
public sealed class QuotaDefaultTests : IAsyncDisposable
{
    private readonly CatalogFactory _catalog = CatalogFactory.WithSetting("Catalog:MaxTorrentsPerUser", "1");

    public ValueTask DisposeAsync() => _catalog.DisposeAsync();

    [Fact]
    public async Task Add_DefaultQuotaFromConfiguration_SecondRefused()
    {
        var user = await _catalog.UserAsync();
        await IsAsync<TorrentView>(await TorrentsApiCases.UploadAsync(user, TestTorrents.Single("d1-" + Guid.NewGuid().ToString("N")).Bytes), HttpStatusCode.Created);
        await IsProblemAsync(await TorrentsApiCases.UploadAsync(user, TestTorrents.Single("d2-" + Guid.NewGuid().ToString("N")).Bytes),
            HttpStatusCode.Forbidden, "Torrent quota exceeded");
    }
}
