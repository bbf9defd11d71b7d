extern alias analytics;
extern alias notifier;

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TorrentEdge.Catalog.Apis;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.ServiceDefaults.Auth;
using static TorrentEdge.Catalog.Tests.Apis.ProblemAssert;

namespace TorrentEdge.Catalog.Tests.ThroughGateway;

/// <summary>
/// Every endpoint of Catalog, Analytics and Notifier, as their running apps' endpoint data sources list them, times
/// every kind of caller, through the real Gateway (issue 16). An endpoint without a row fails the test, so a new one
/// needs its expected statuses written down here.
/// </summary>
public sealed class AuthorizationMatrixTests(SuiteGatewayFixture suite) : IClassFixture<SuiteGatewayFixture>
{
    /// <summary>The kinds of caller, in the order of each row's statuses.</summary>
    public enum Caller { Anonymous, ExpiredToken, DisabledUser, AnotherUser, CoOwner, Owner, Admin }

    private const int Connected = 200;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>What one cell needs: the callers' tokens, and fresh state made on demand so cells do not disturb each other.</summary>
    private sealed class World(SuiteGatewayFixture suite, HttpClient admin, HttpClient alice, HttpClient bob, string aliceId, string statsHash)
    {
        public string AliceId => aliceId;

        public string StatsHash => statsHash;

        /// <summary>A torrent Alice uploaded and Bob added by magnet: Alice owns it, Bob co-owns it.</summary>
        public async Task<string> NewSharedTorrentAsync()
        {
            var torrent = TestTorrents.Single("matrix-" + Guid.NewGuid().ToString("N"));
            Assert.Equal(HttpStatusCode.Created, (await Apis.TorrentsApiCases.UploadAsync(alice, torrent.Bytes)).StatusCode);
            Assert.Equal(HttpStatusCode.Created, (await bob.PostAsJsonAsync("/api/torrents", new { magnetURI = $"magnet:?xt=urn:btih:{torrent.InfoHash}" }, Ct)).StatusCode);
            return torrent.InfoHash;
        }

        /// <summary>A user for the admin endpoints to act on.</summary>
        public async Task<string> NewTargetUserAsync()
        {
            var client = await suite.UserAsync();
            return (await IsAsync<UserView>(await client.GetAsync("/api/auth/me", Ct), HttpStatusCode.OK)).Id;
        }

        /// <summary>One of Alice's personal API tokens.</summary>
        public async Task<string> NewAliceApiTokenAsync() =>
            (await IsAsync<CreatedApiToken>(await alice.PostAsJsonAsync("/api/auth/tokens", new { name = "matrix" }, Ct), HttpStatusCode.Created)).Id;

        public HttpClient Admin => admin;
    }

    /// <summary>One endpoint: how to call it (null: a whole hub connection), the status each caller gets, and why when it is not obvious.</summary>
    private sealed record Row(Func<World, Task<HttpRequestMessage>>? Request, int[] Expected, string? Why = null);

    private static Func<World, Task<HttpRequestMessage>> Send(HttpMethod method, string path, object? body = null) =>
        _ => Task.FromResult(Message(method, path, body));

    private static Func<World, Task<HttpRequestMessage>> Send(HttpMethod method, Func<World, Task<string>> path, object? body = null) =>
        async world => Message(method, await path(world), body);

    private static HttpRequestMessage Message(HttpMethod method, string path, object? body) =>
        new(method, path) { Content = body is null ? null : JsonContent.Create(body) };

    private static int[] All(int status) => [status, status, status, status, status, status, status];

    //                                Anonymous ExpiredToken DisabledUser AnotherUser CoOwner Owner Admin
    private static readonly int[] SignedIn = [401, 401, 401, 200, 200, 200, 200];
    private static readonly int[] AdminOnly = [401, 401, 401, 403, 403, 403, 200];
    private static readonly int[] TorrentOwners = [401, 401, 401, 404, 200, 200, 200];

    private static readonly Dictionary<string, Row> Rows = new()
    {
        // Catalog: accounts.
        ["catalog GET /.well-known/jwks.json"] = new(Send(HttpMethod.Get, "/.well-known/jwks.json"), All(404),
            "service-to-service; the Gateway routes only /api/** there (the public copy is /api/auth/jwks)"),
        ["catalog GET /api/auth/jwks"] = new(Send(HttpMethod.Get, "/api/auth/jwks"), All(200)),
        ["catalog POST /api/auth/register"] = new(w => Task.FromResult(Message(HttpMethod.Post, "/api/auth/register",
            new { username = "m" + Guid.NewGuid().ToString("N")[..12], password = CatalogFactory.Password })), All(201)),
        ["catalog POST /api/auth/login"] = new(Send(HttpMethod.Post, "/api/auth/login", new { username = CatalogFactory.AdminName, password = "wrong-Password-1" }), All(401)),
        ["catalog POST /api/auth/refresh"] = new(Send(HttpMethod.Post, "/api/auth/refresh", new { refreshToken = "not-a-token" }), All(401)),
        // With neither a refresh token nor a valid bearer there is nothing to end.
        ["catalog POST /api/auth/logout"] = new(Send(HttpMethod.Post, "/api/auth/logout"), [401, 401, 401, 204, 204, 204, 204]),
        ["catalog POST /api/auth/service-token"] = new(Send(HttpMethod.Post, "/api/auth/service-token", new { clientId = "peerworker", clientSecret = "wrong" }), All(401)),
        ["catalog GET /api/auth/me"] = new(Send(HttpMethod.Get, "/api/auth/me"), SignedIn),
        ["catalog GET /api/auth/tokens"] = new(Send(HttpMethod.Get, "/api/auth/tokens"), SignedIn),
        ["catalog POST /api/auth/tokens"] = new(Send(HttpMethod.Post, "/api/auth/tokens", new { name = "matrix" }), [401, 401, 401, 201, 201, 201, 201]),
        // Alice's token: only Alice revokes it; to anyone else it does not exist.
        ["catalog DELETE /api/auth/tokens/{id}"] = new(Send(HttpMethod.Delete, async w => $"/api/auth/tokens/{await w.NewAliceApiTokenAsync()}"),
            [401, 401, 401, 404, 404, 204, 404]),

        // Catalog: administration (on a fresh user each time).
        ["catalog GET /api/admin/users/"] = new(Send(HttpMethod.Get, "/api/admin/users"), AdminOnly),
        ["catalog PUT /api/admin/users/{id}/role"] = new(Send(HttpMethod.Put, async w => $"/api/admin/users/{await w.NewTargetUserAsync()}/role", new { role = "user" }), AdminOnly),
        ["catalog POST /api/admin/users/{id}/disable"] = new(Send(HttpMethod.Post, async w => $"/api/admin/users/{await w.NewTargetUserAsync()}/disable"), AdminOnly),
        ["catalog POST /api/admin/users/{id}/enable"] = new(Send(HttpMethod.Post, async w => $"/api/admin/users/{await w.NewTargetUserAsync()}/enable"), AdminOnly),
        // Harmless to repeat: workers ignore a spec whose revision they have.
        ["catalog POST /api/admin/torrents/republish"] = new(Send(HttpMethod.Post, "/api/admin/torrents/republish"), [401, 401, 401, 403, 403, 403, 202]),
        ["catalog PUT /api/admin/users/{id}/quota"] = new(Send(HttpMethod.Put, async w => $"/api/admin/users/{await w.NewTargetUserAsync()}/quota", new { maxTorrents = 5 }), AdminOnly),

        // Catalog: torrents (a fresh shared torrent each time: Alice owns it, Bob co-owns it; the admin owns nothing).
        ["catalog POST /api/torrents/"] = new(w => Task.FromResult(Message(HttpMethod.Post, "/api/torrents",
            new { magnetURI = $"magnet:?xt=urn:btih:{Convert.ToHexStringLower(Guid.NewGuid().ToByteArray())}00000000" })), [401, 401, 401, 201, 201, 201, 201]),
        ["catalog GET /api/torrents/"] = new(Send(HttpMethod.Get, "/api/torrents"), SignedIn),
        ["catalog GET /api/torrents/{infoHash}"] = new(Send(HttpMethod.Get, async w => $"/api/torrents/{await w.NewSharedTorrentAsync()}"), TorrentOwners),
        ["catalog GET /api/torrents/{infoHash}/metainfo"] = new(Send(HttpMethod.Get, async w => $"/api/torrents/{await w.NewSharedTorrentAsync()}/metainfo"), TorrentOwners),
        ["catalog POST /api/torrents/{infoHash}/pause"] = new(Send(HttpMethod.Post, async w => $"/api/torrents/{await w.NewSharedTorrentAsync()}/pause"), TorrentOwners),
        ["catalog POST /api/torrents/{infoHash}/resume"] = new(Send(HttpMethod.Post, async w => $"/api/torrents/{await w.NewSharedTorrentAsync()}/resume"), TorrentOwners),
        ["catalog POST /api/torrents/{infoHash}/recheck"] = new(Send(HttpMethod.Post, async w => $"/api/torrents/{await w.NewSharedTorrentAsync()}/recheck"), TorrentOwners),
        ["catalog PUT /api/torrents/{infoHash}/priority"] = new(Send(HttpMethod.Put, async w => $"/api/torrents/{await w.NewSharedTorrentAsync()}/priority", new { priority = "high" }), TorrentOwners),
        ["catalog PUT /api/torrents/{infoHash}/encryption"] = new(Send(HttpMethod.Put, async w => $"/api/torrents/{await w.NewSharedTorrentAsync()}/encryption", new { encryption = "require" }), TorrentOwners),
        ["catalog PUT /api/torrents/{infoHash}/files"] = new(Send(HttpMethod.Put, async w => $"/api/torrents/{await w.NewSharedTorrentAsync()}/files",
            new { files = new[] { new { index = 0, priority = "high" } } }), TorrentOwners),
        ["catalog DELETE /api/torrents/{infoHash}"] = new(Send(HttpMethod.Delete, async w => $"/api/torrents/{await w.NewSharedTorrentAsync()}"), [401, 401, 401, 404, 204, 204, 204]),
        ["catalog PUT /api/torrents/{infoHash}/labels"] = new(Send(HttpMethod.Put, async w => $"/api/torrents/{await w.NewSharedTorrentAsync()}/labels",
            new { category = "tv", tags = new[] { "hd" } }), [401, 401, 401, 404, 200, 200, 404], "labels are the caller's own: an admin who owns nothing has none to set"),
        ["catalog GET /api/torrents/{infoHash}/peers"] = new(Send(HttpMethod.Get, async w => $"/api/torrents/{await w.NewSharedTorrentAsync()}/peers"), TorrentOwners),
        ["catalog GET /api/torrents/{infoHash}/pieces"] = new(Send(HttpMethod.Get, async w => $"/api/torrents/{await w.NewSharedTorrentAsync()}/pieces"), TorrentOwners),
        ["catalog GET /api/torrents/{infoHash}/share-limits"] = new(Send(HttpMethod.Get, async w => $"/api/torrents/{await w.NewSharedTorrentAsync()}/share-limits"),
            [401, 401, 401, 404, 200, 200, 404], "share limits are the caller's own, like labels"),
        ["catalog PUT /api/torrents/{infoHash}/share-limits"] = new(Send(HttpMethod.Put, async w => $"/api/torrents/{await w.NewSharedTorrentAsync()}/share-limits",
            new { ratioLimit = 2.0 }), [401, 401, 401, 404, 200, 200, 404], "share limits are the caller's own, like labels"),
        ["catalog GET /api/categories"] = new(Send(HttpMethod.Get, "/api/categories"), SignedIn),
        ["catalog GET /api/tags"] = new(Send(HttpMethod.Get, "/api/tags"), SignedIn),

        // Catalog: the download-client facades (docs/media-managers.md), each with its own client's answers: qBittorrent
        // says 403 "Forbidden" to a caller it does not know, Transmission 401, then 409 with the session id it wants.
        ["catalog GET /api/v2/auth/login"] = new(Send(HttpMethod.Get, "/api/v2/auth/login"), All(405), "qBittorrent logs in by POST only"),
        ["catalog POST /api/v2/auth/login"] = new(_ => Task.FromResult(new HttpRequestMessage(HttpMethod.Post, "/api/v2/auth/login")
            { Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["username"] = "nobody", ["password"] = "wrong" }) }), All(200),
            "qBittorrent answers a failed log-in 200 \"Fails.\""),
        ["catalog GET /api/v2/{scope}/{action}"] = new(Send(HttpMethod.Get, "/api/v2/app/version"), [403, 403, 403, 200, 200, 200, 200]),
        ["catalog POST /api/v2/{scope}/{action}"] = new(async w => new HttpRequestMessage(HttpMethod.Post, "/api/v2/torrents/stop")
            { Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["hashes"] = await w.NewSharedTorrentAsync() }) },
            [403, 403, 403, 200, 200, 200, 200], "qBittorrent passes over hashes that are not the caller's"),
        ["catalog GET /transmission/rpc"] = new(Send(HttpMethod.Get, "/transmission/rpc"), [401, 401, 401, 409, 409, 409, 409]),
        ["catalog POST /transmission/rpc"] = new(Send(HttpMethod.Post, "/transmission/rpc", new { method = "session-get" }), [401, 401, 401, 409, 409, 409, 409]),
        ["catalog GET /openapi/{documentName}.json"] = new(Send(HttpMethod.Get, "/openapi/v1.json"), All(200),
            "the API description is public (proxied with Gateway:ApiDocs, on in Development)"),

        // Analytics and Notifier validate tokens themselves, without calling Catalog, and refuse a disabled user as soon as
        // torrent-users tells them (about a second; docs/catalog.md#tokens). Others' statistics stay hidden as before.
        ["analytics GET /api/statistics/"] = new(Send(HttpMethod.Get, "/api/statistics"), SignedIn),
        ["analytics GET /api/statistics/torrents/{infoHash}"] = new(Send(HttpMethod.Get, w => Task.FromResult($"/api/statistics/torrents/{w.StatsHash}")),
            TorrentOwners),
        ["analytics GET /api/statistics/torrents/{infoHash}/history"] = new(Send(HttpMethod.Get, w => Task.FromResult($"/api/statistics/torrents/{w.StatsHash}/history")),
            TorrentOwners),
        ["analytics GET /api/statistics/users/{userId}"] = new(Send(HttpMethod.Get, w => Task.FromResult($"/api/statistics/users/{w.AliceId}")),
            [401, 401, 401, 404, 404, 200, 200]),
        ["analytics GET /api/statistics/users/{userId}/history"] = new(Send(HttpMethod.Get, w => Task.FromResult($"/api/statistics/users/{w.AliceId}/history")),
            [401, 401, 401, 404, 404, 200, 200]),

        // Notifier: the hub (negotiation, and a whole connection through the Gateway's WebSocket route). An open connection
        // closes when its token expires or its user is disabled (tests/Notifier.Tests/Hubs/DisabledUserTests).
        ["notifier * /hubs/torrents/negotiate"] = new(Send(HttpMethod.Post, "/hubs/torrents/negotiate?negotiateVersion=1"), SignedIn),
        // Socket.IO: the transport is open to anyone, as in the original design; a session can do nothing until its
        // `authenticate` event carries a valid token (tests/Notifier.Tests/SocketIO checks what it refuses).
        ["notifier GET /socket.io/"] = new(Send(HttpMethod.Get, "/socket.io/?EIO=4&transport=polling"), All(200),
            "an Engine.IO handshake; events need the authenticate event's token"),
        ["notifier POST /socket.io/"] = new(Send(HttpMethod.Post, "/socket.io/?EIO=4&transport=polling"), All(403),
            "a poll without a session id is refused, whoever sends it"),
        ["notifier * /hubs/torrents"] = new(null, [401, 401, 401, Connected, Connected, Connected, Connected]),
    };

    private static readonly string[] InternalPaths = ["/health", "/alive", "/metrics"];

    /// <summary>Every endpoint of a running service as "service METHOD pattern"; infrastructure ones are listed apart.</summary>
    private static IEnumerable<string> EndpointsOf(string service, IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => !InternalPaths.Contains(e.RoutePattern.RawText))
            .SelectMany(e => (e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["*"])
                .Select(method => $"{service} {method} {e.RoutePattern.RawText}"))
            .Distinct();

    [Fact]
    public void Matrix_EveryEndpointOfTheRunningApps_HasARow()
    {
        _ = suite.GatewayAddress;
        var endpoints = EndpointsOf("catalog", suite.CatalogServices)
            .Concat(EndpointsOf("analytics", suite.AnalyticsServices))
            .Concat(EndpointsOf("notifier", suite.NotifierServices))
            .Order(StringComparer.Ordinal).ToList();

        Assert.Equal(endpoints, Rows.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Matrix_EveryEndpointTimesEveryCaller_ExpectedStatus()
    {
        var (world, tokens) = await ArrangeAsync();
        var failures = new List<string>();
        using var client = suite.CreateApiClient();
        foreach (var (endpoint, row) in Rows)
        {
            for (var caller = 0; caller < row.Expected.Length; caller++)
            {
                var token = tokens[(Caller)caller];
                int actual;
                if (row.Request is null)
                {
                    actual = await ConnectHubAsync(token);
                }
                else
                {
                    using var request = await row.Request(world);
                    if (token is not null)
                    {
                        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                    }
                    using var response = await client.SendAsync(request, Ct);
                    actual = (int)response.StatusCode;
                    if (actual >= 400 && response.Content.Headers.ContentLength is > 0 && endpoint.StartsWith("catalog", StringComparison.Ordinal)
                        && !endpoint.Contains(" /api/v2/", StringComparison.Ordinal) && !endpoint.Contains(" /transmission/", StringComparison.Ordinal))
                    {
                        // Refusals from Catalog are problems, whatever refuses (authentication, authorization or handler);
                        // the download-client facades answer as the clients they stand in for (plain text, JSON-RPC).
                        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                    }
                }
                if (actual != row.Expected[caller])
                {
                    failures.Add($"{endpoint} as {(Caller)caller}: expected {row.Expected[caller]}, got {actual}");
                }
            }
        }
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    private async Task<int> ConnectHubAsync(string? token)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(suite.GatewayAddress, "/hubs/torrents"), o =>
            {
                o.Transports = HttpTransportType.WebSockets;
                o.AccessTokenProvider = () => Task.FromResult(token);
            })
            .Build();
        try
        {
            await connection.StartAsync(Ct);
            return connection.State == HubConnectionState.Connected ? Connected : 0;
        }
        catch (HttpRequestException e) when (e.StatusCode is { } status)
        {
            return (int)status;
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }

    private async Task<(World World, Dictionary<Caller, string?> Tokens)> ArrangeAsync()
    {
        var admin = await suite.AdminAsync();
        var alice = await suite.UserAsync();
        var bob = await suite.UserAsync();
        var other = await suite.UserAsync();
        var disabled = await suite.UserAsync();
        var aliceId = (await IsAsync<UserView>(await alice.GetAsync("/api/auth/me", Ct), HttpStatusCode.OK)).Id;
        var bobId = (await IsAsync<UserView>(await bob.GetAsync("/api/auth/me", Ct), HttpStatusCode.OK)).Id;
        var disabledId = (await IsAsync<UserView>(await disabled.GetAsync("/api/auth/me", Ct), HttpStatusCode.OK)).Id;
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsync($"/api/admin/users/{disabledId}/disable", null, Ct)).StatusCode);
        await DisabledEverywhereAsync(disabledId);

        var world = new World(suite, admin, alice, bob, aliceId, "");
        // Statistics know a torrent once a worker reported it: report one owned by Alice and Bob.
        var statsHash = await world.NewSharedTorrentAsync();
        world = new World(suite, admin, alice, bob, aliceId, statsHash);
        var events = suite.CatalogServices.GetRequiredService<TorrentEdge.ServiceDefaults.Messaging.IIntegrationEventPublisher>();
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            while (true)
            {
                await events.PublishAsync(TorrentEdge.Contracts.Topics.TorrentEvents, statsHash,
                    new TorrentProgressed(statsHash, [aliceId, bobId], TorrentState.Downloading, 0.5, 20_000, 40_000, 20_000, 0, 100, 0, 1, 1, 200, [], []), Ct);
                if ((await admin.GetAsync($"/api/statistics/torrents/{statsHash}", Ct)).StatusCode == HttpStatusCode.OK)
                {
                    break;
                }
                await Task.Delay(500, deadline.Token);
            }
        }

        var tokens = new Dictionary<Caller, string?>
        {
            [Caller.Anonymous] = null,
            [Caller.ExpiredToken] = ExpiredTokenFor(aliceId),
            [Caller.DisabledUser] = disabled.DefaultRequestHeaders.Authorization!.Parameter,
            [Caller.AnotherUser] = other.DefaultRequestHeaders.Authorization!.Parameter,
            [Caller.CoOwner] = bob.DefaultRequestHeaders.Authorization!.Parameter,
            [Caller.Owner] = alice.DefaultRequestHeaders.Authorization!.Parameter,
            [Caller.Admin] = admin.DefaultRequestHeaders.Authorization!.Parameter,
        };
        return (world, tokens);
    }

    /// <summary>Waits (at most 10 s) until Analytics and Notifier have read from torrent-users that the user is disabled.</summary>
    private async Task DisabledEverywhereAsync(string userId)
    {
        var lists = new[] { suite.AnalyticsServices, suite.NotifierServices }.Select(s => s.GetRequiredService<UserAccessList>()).ToList();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (!lists.All(l => l.Find(userId) is { Disabled: true }) && watch.Elapsed < TimeSpan.FromSeconds(10))
        {
            await Task.Delay(50, Ct);
        }
        Assert.True(lists.All(l => l.Find(userId) is { Disabled: true }), "Analytics and Notifier did not hear of the disable within 10 s");
    }

    /// <summary>Alice's access token as Catalog signs it, expired an hour ago.</summary>
    private string ExpiredTokenFor(string userId)
    {
        var keys = suite.CatalogServices.GetRequiredService<SigningKeys>();
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "torrentedge",
            Audience = "torrentedge",
            IssuedAt = now.AddHours(-2),
            NotBefore = now.AddHours(-2),
            Expires = now.AddHours(-1),
            SigningCredentials = keys.SigningCredentials,
            Subject = new ClaimsIdentity([new Claim(CatalogClaims.Subject, userId), new Claim(CatalogClaims.Name, "alice"), new Claim(CatalogClaims.Role, "user")]),
        });
    }
}
