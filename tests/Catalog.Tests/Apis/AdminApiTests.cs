using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using TorrentEdge.Catalog.Apis;
using TorrentEdge.Catalog.Tests.ThroughGateway;
using static TorrentEdge.Catalog.Tests.Apis.ProblemAssert;

namespace TorrentEdge.Catalog.Tests.Apis;

/// <summary>The admin endpoints. Run directly against Catalog and through the Gateway (see the classes at the end).</summary>
public abstract class AdminApiCases
{
    private readonly ICatalogApiHost _host;

    protected AdminApiCases(ICatalogApiHost host)
    {
        // A host whose store has no server here (MongoDB without Docker): every case is skipped with the reason.
        if (host.SkipReason is { } reason)
        {
            Assert.Skip(reason);
        }
        _host = host;
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<string> IdOf(HttpClient client) =>
        (await (await client.GetAsync("/api/auth/me", Ct)).Content.ReadFromJsonAsync<UserView>(Json, Ct))!.Id;

    [Fact]
    public async Task ListUsers_AdminOnly()
    {
        var admin = await _host.AdminAsync();
        var user = await _host.UserAsync();
        var users = await IsAsync<List<UserView>>(await admin.GetAsync("/api/admin/users", Ct), HttpStatusCode.OK);
        Assert.Contains(users, u => u.Username == CatalogFactory.AdminName && u.Role == "admin");
        await IsProblemAsync(await user.GetAsync("/api/admin/users", Ct), HttpStatusCode.Forbidden);
        await IsProblemAsync(await _host.CreateApiClient().GetAsync("/api/admin/users", Ct), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task SetRole_PromotesAndValidates()
    {
        var admin = await _host.AdminAsync();
        var name = "promo" + Guid.NewGuid().ToString("N")[..6];
        var user = await _host.UserAsync(name);
        var id = await IdOf(user);
        await IsProblemAsync(await admin.PutAsJsonAsync($"/api/admin/users/{id}/role", new { role = "root" }, Ct), HttpStatusCode.BadRequest, "Invalid role");
        await IsProblemAsync(await admin.PutAsJsonAsync("/api/admin/users/%24where/role", new { role = "admin" }, Ct), HttpStatusCode.NotFound);
        var promoted = await IsAsync<UserView>(await admin.PutAsJsonAsync($"/api/admin/users/{id}/role", new { role = "admin" }, Ct), HttpStatusCode.OK);
        Assert.Equal("admin", promoted.Role);

        // The role travels in the next token.
        var tokens = await CatalogFactory.LoginAsync(_host.CreateApiClient(), name);
        var client = _host.CreateApiClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/admin/users", Ct)).StatusCode);

        await IsAsync<UserView>(await admin.PutAsJsonAsync($"/api/admin/users/{id}/role", new { role = "user" }, Ct), HttpStatusCode.OK);
    }

    [Fact]
    public async Task DisableUser_TokensStopWorkingLoginRefused_EnableRestores()
    {
        var admin = await _host.AdminAsync();
        var name = "dis" + Guid.NewGuid().ToString("N")[..6];
        var user = await _host.UserAsync(name);
        var refresh = await CatalogFactory.LoginAsync(_host.CreateApiClient(), name);
        var id = await IdOf(user);

        var disabled = await IsAsync<UserView>(await admin.PostAsync($"/api/admin/users/{id}/disable", null, Ct), HttpStatusCode.OK);
        Assert.True(disabled.Disabled);
        await IsProblemAsync(await user.GetAsync("/api/auth/me", Ct), HttpStatusCode.Unauthorized);
        await IsProblemAsync(await user.GetAsync("/api/torrents", Ct), HttpStatusCode.Unauthorized);
        await IsProblemAsync(await _host.CreateApiClient().PostAsJsonAsync("/api/auth/login", new { username = name, password = CatalogFactory.Password }, Ct),
            HttpStatusCode.Forbidden, "Account disabled");
        await IsProblemAsync(await _host.CreateApiClient().PostAsJsonAsync("/api/auth/refresh", new { refreshToken = refresh.RefreshToken }, Ct),
            HttpStatusCode.Unauthorized);

        await IsAsync<UserView>(await admin.PostAsync($"/api/admin/users/{id}/enable", null, Ct), HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, (await user.GetAsync("/api/auth/me", Ct)).StatusCode);
    }

    [Fact]
    public async Task LastAdmin_CannotBeDemotedOrDisabled()
    {
        var admin = await _host.AdminAsync();
        // Tests of one class run one after another, and SetRole demotes the admin it promotes, so this admin is the only one.
        var id = await IdOf(admin);
        await IsProblemAsync(await admin.PutAsJsonAsync($"/api/admin/users/{id}/role", new { role = "user" }, Ct), HttpStatusCode.Conflict, "Last admin");
        await IsProblemAsync(await admin.PostAsync($"/api/admin/users/{id}/disable", null, Ct), HttpStatusCode.Conflict, "Last admin");
    }

    [Fact]
    public async Task UnknownUser_NotFound()
    {
        var admin = await _host.AdminAsync();
        await IsProblemAsync(await admin.PostAsync("/api/admin/users/nobody/disable", null, Ct), HttpStatusCode.NotFound, "Unknown user");
        await IsProblemAsync(await admin.PostAsync("/api/admin/users/nobody/enable", null, Ct), HttpStatusCode.NotFound, "Unknown user");
    }
}

/// <summary>The AdminApi cases against Catalog itself.</summary>
public sealed class AdminApiTests(CatalogFactory factory) : AdminApiCases(factory), IClassFixture<CatalogFactory>;

/// <summary>The AdminApi cases through the real Gateway in front of a real Catalog.</summary>
public sealed class AdminApiThroughGatewayTests(GatewayCatalogFixture fixture) : AdminApiCases(fixture), IClassFixture<GatewayCatalogFixture>;

/// <summary>The AdminApi cases through the real Gateway in front of Catalog on MongoDB (skipped without a server).</summary>
public sealed class AdminApiThroughGatewayOnMongoTests(MongoGatewayCatalogFixture fixture) : AdminApiCases(fixture), IClassFixture<MongoGatewayCatalogFixture>;
