using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TorrentEdge.Catalog.Apis;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Catalog.Tests.ThroughGateway;
using static TorrentEdge.Catalog.Tests.Apis.ProblemAssert;

namespace TorrentEdge.Catalog.Tests.Apis;

/// <summary>Accounts, tokens and auth cases. Run directly against Catalog and through the Gateway (see the classes at the end).</summary>
public abstract class AuthApiCases
{
    private readonly ICatalogApiHost _host;

    protected AuthApiCases(ICatalogApiHost host)
    {
        // A host whose store has no server here (MongoDB without Docker): every case is skipped with the reason.
        if (host.SkipReason is { } reason)
        {
            Assert.Skip(reason);
        }
        _host = host;
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Register_FirstUserIsAdminLaterUsersAreUsers()
    {
        var admin = await _host.AdminAsync();
        var me = await IsAsync<UserView>(await admin.GetAsync("/api/auth/me", Ct), HttpStatusCode.OK);
        Assert.Equal("admin", me.Role);

        var client = _host.CreateApiClient();
        var response = await client.PostAsJsonAsync("/api/auth/register", new { username = "bob", password = CatalogFactory.Password }, Ct);
        var bob = await IsAsync<UserView>(response, HttpStatusCode.Created);
        Assert.Equal("user", bob.Role);
        Assert.Equal("bob", bob.Username);
        Assert.Equal("/api/auth/me", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Register_TakenNameInOtherCase_Conflict()
    {
        await _host.UserAsync("carol");
        var response = await _host.CreateApiClient().PostAsJsonAsync("/api/auth/register", new { username = "CAROL", password = CatalogFactory.Password }, Ct);
        await IsProblemAsync(response, HttpStatusCode.Conflict, "User name taken");
    }

    [Theory]
    [InlineData("short1!")]
    [InlineData("alllowercaseletters")]
    [InlineData("")]
    public async Task Register_WeakPassword_BadRequest(string password)
    {
        var response = await _host.CreateApiClient().PostAsJsonAsync("/api/auth/register", new { username = "weakling", password }, Ct);
        await IsProblemAsync(response, HttpStatusCode.BadRequest, "Weak password");
    }

    [Theory]
    [InlineData("{\"$gt\":\"\"}")]
    [InlineData("a' OR '1'='1")]
    [InlineData("$where")]
    [InlineData("ab")]
    public async Task Register_HostileOrInvalidName_BadRequest(string username)
    {
        var response = await _host.CreateApiClient().PostAsJsonAsync("/api/auth/register", new { username, password = CatalogFactory.Password }, Ct);
        await IsProblemAsync(response, HttpStatusCode.BadRequest, "Invalid user name");
    }

    [Fact]
    public async Task Register_VeryLongName_BadRequest()
    {
        var response = await _host.CreateApiClient().PostAsJsonAsync("/api/auth/register", new { username = new string('a', 100_000), password = CatalogFactory.Password }, Ct);
        await IsProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Register_MalformedJson_BadRequestProblem()
    {
        var response = await _host.CreateApiClient().PostAsync("/api/auth/register", new StringContent("{not json", null, "application/json"), Ct);
        await IsProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Login_ValidCredentials_ReturnsTokens()
    {
        await _host.UserAsync("dave");
        var response = await _host.CreateApiClient().PostAsJsonAsync("/api/auth/login", new { username = "dave", password = CatalogFactory.Password }, Ct);
        var tokens = await IsAsync<TokenResponse>(response, HttpStatusCode.OK);
        Assert.False(string.IsNullOrEmpty(tokens.AccessToken));
        Assert.False(string.IsNullOrEmpty(tokens.RefreshToken));
        Assert.Equal(5 * 60, tokens.ExpiresIn);
        var jwt = new JsonWebToken(tokens.AccessToken);
        Assert.Equal("ES256", jwt.Alg);
        Assert.Equal("dave", jwt.GetClaim("name").Value);
    }

    [Fact]
    public async Task Login_WrongPasswordOrUnknownUser_Unauthorized()
    {
        await _host.UserAsync("erin");
        var client = _host.CreateApiClient();
        await IsProblemAsync(await client.PostAsJsonAsync("/api/auth/login", new { username = "erin", password = "Wrong-password-1" }, Ct),
            HttpStatusCode.Unauthorized, "Invalid credentials");
        await IsProblemAsync(await client.PostAsJsonAsync("/api/auth/login", new { username = "nobody", password = "Wrong-password-1" }, Ct),
            HttpStatusCode.Unauthorized, "Invalid credentials");
    }

    [Fact]
    public async Task Login_RepeatedFailures_LocksOutEvenWithRightPassword()
    {
        await _host.UserAsync("frank");
        var client = _host.CreateApiClient();
        for (var i = 0; i < 5; i++)
        {
            await client.PostAsJsonAsync("/api/auth/login", new { username = "frank", password = "Wrong-password-1" }, Ct);
        }
        var response = await client.PostAsJsonAsync("/api/auth/login", new { username = "frank", password = CatalogFactory.Password }, Ct);
        // Locked looks like wrong credentials: a distinct answer would tell an attacker that the name exists.
        await IsProblemAsync(response, HttpStatusCode.Unauthorized, "Invalid credentials");
        Assert.True(await LockoutEndAsync("frank") > DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Login_TwentyParallelWrongPasswords_LockTheAccount()
    {
        await _host.UserAsync("parallel");
        var client = _host.CreateApiClient();

        var attempts = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            client.PostAsJsonAsync("/api/auth/login", new { username = "parallel", password = "Wrong-password-1" }, Ct)));

        foreach (var attempt in attempts)
        {
            await IsProblemAsync(attempt, HttpStatusCode.Unauthorized, "Invalid credentials");
        }
        // Every failure counted (none lost to a concurrent rewrite of the record): the right password is refused too.
        Assert.True(await LockoutEndAsync("parallel") > DateTimeOffset.UtcNow);
        await IsProblemAsync(await client.PostAsJsonAsync("/api/auth/login", new { username = "parallel", password = CatalogFactory.Password }, Ct),
            HttpStatusCode.Unauthorized, "Invalid credentials");
    }

    [Fact]
    public async Task Login_LockedAccountAndUnknownUser_AnswerAlike()
    {
        await _host.UserAsync("lockedout");
        var client = _host.CreateApiClient();
        for (var i = 0; i < 5; i++)
        {
            await client.PostAsJsonAsync("/api/auth/login", new { username = "lockedout", password = "Wrong-password-1" }, Ct);
        }
        Assert.True(await LockoutEndAsync("lockedout") > DateTimeOffset.UtcNow);

        var (lockedStatus, lockedBody, lockedTime) = await TimedLoginAsync(client, "lockedout");
        var (unknownStatus, unknownBody, unknownTime) = await TimedLoginAsync(client, "nobody-here");

        Assert.Equal(HttpStatusCode.Unauthorized, unknownStatus);
        Assert.Equal(unknownStatus, lockedStatus);
        Assert.Equal(unknownBody, lockedBody);
        // Both pay for one password hash; a locked account answering at once (no hash) would be several times faster.
        Assert.True(lockedTime * 3 >= unknownTime, $"locked {lockedTime.TotalMilliseconds} ms, unknown {unknownTime.TotalMilliseconds} ms");
    }

    /// <summary>Status, body without its per-request trace id, and the median time of five log-ins with the right password.</summary>
    private async Task<(HttpStatusCode Status, string Body, TimeSpan Median)> TimedLoginAsync(HttpClient client, string username)
    {
        var times = new List<TimeSpan>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 5; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            last = await client.PostAsJsonAsync("/api/auth/login", new { username, password = CatalogFactory.Password }, Ct);
            await last.Content.LoadIntoBufferAsync(Ct);
            times.Add(clock.Elapsed);
        }
        var body = System.Text.Json.Nodes.JsonNode.Parse(await last!.Content.ReadAsStringAsync(Ct))!.AsObject();
        body.Remove("traceId");
        return (last.StatusCode, $"{last.Content.Headers.ContentType} {body.ToJsonString()}", times.Order().ElementAt(2));
    }

    private async Task<DateTimeOffset?> LockoutEndAsync(string username)
    {
        var admin = await _host.AdminAsync();
        var users = await IsAsync<List<UserView>>(await admin.GetAsync("/api/admin/users", Ct), HttpStatusCode.OK);
        return users.Single(u => u.Username == username).LockoutEnd;
    }

    [Fact]
    public async Task Me_NoToken_UnauthorizedProblem()
    {
        await IsProblemAsync(await _host.CreateApiClient().GetAsync("/api/auth/me", Ct), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Me_ExpiredToken_Unauthorized()
    {
        var user = await _host.UserAsync();
        var keys = _host.CatalogServices.GetRequiredService<SigningKeys>();
        var token = CreateToken(keys.SigningCredentials, SubjectOf(user), DateTime.UtcNow.AddHours(-2), DateTime.UtcNow.AddHours(-1));
        var client = _host.CreateApiClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await IsProblemAsync(await client.GetAsync("/api/auth/me", Ct), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Me_WrongSignature_Unauthorized()
    {
        var user = await _host.UserAsync();
        var keys = _host.CatalogServices.GetRequiredService<SigningKeys>();
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        // Same key id as the real key, so only the signature can give it away.
        var credentials = new SigningCredentials(new ECDsaSecurityKey(other) { KeyId = keys.KeyId }, SecurityAlgorithms.EcdsaSha256);
        var token = CreateToken(credentials, SubjectOf(user), DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(10));
        var client = _host.CreateApiClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await IsProblemAsync(await client.GetAsync("/api/auth/me", Ct), HttpStatusCode.Unauthorized);

        // The control: the same claims signed with the real key pass.
        var good = CreateToken(keys.SigningCredentials, SubjectOf(user), DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(10));
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", good);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/auth/me", Ct)).StatusCode);
    }

    private static string SubjectOf(HttpClient client) =>
        new JsonWebToken(client.DefaultRequestHeaders.Authorization!.Parameter!).Subject;

    private static string CreateToken(SigningCredentials credentials, string subject, DateTime notBefore, DateTime expires) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "torrentedge",
            Audience = "torrentedge",
            IssuedAt = notBefore,
            NotBefore = notBefore,
            Expires = expires,
            SigningCredentials = credentials,
            Subject = new ClaimsIdentity([new Claim("sub", subject), new Claim("role", "user")]),
        });

    [Fact]
    public async Task Refresh_RotatesAndDetectsReuse()
    {
        await _host.UserAsync("grace");
        var client = _host.CreateApiClient();
        var first = await CatalogFactory.LoginAsync(client, "grace");

        var second = await IsAsync<TokenResponse>(await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = first.RefreshToken }, Ct), HttpStatusCode.OK);
        Assert.NotEqual(first.RefreshToken, second.RefreshToken);

        // The old token again: reuse, and the whole log-in is revoked, including the token handed out in between.
        await IsProblemAsync(await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = first.RefreshToken }, Ct),
            HttpStatusCode.Unauthorized, "Refresh token reuse detected");
        await IsProblemAsync(await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = second.RefreshToken }, Ct),
            HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Refresh_UnknownToken_Unauthorized()
    {
        await IsProblemAsync(await _host.CreateApiClient().PostAsJsonAsync("/api/auth/refresh", new { refreshToken = "{\"$ne\":null}" }, Ct),
            HttpStatusCode.Unauthorized, "Invalid refresh token");
    }

    [Fact]
    public async Task Logout_WithRefreshToken_RevokesIt()
    {
        await _host.UserAsync("heidi");
        var client = _host.CreateApiClient();
        var tokens = await CatalogFactory.LoginAsync(client, "heidi");
        Assert.Equal(HttpStatusCode.NoContent, (await client.PostAsJsonAsync("/api/auth/logout", new { refreshToken = tokens.RefreshToken }, Ct)).StatusCode);
        await IsProblemAsync(await client.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = tokens.RefreshToken }, Ct), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Logout_Authenticated_RevokesEveryLogin()
    {
        var user = await _host.UserAsync("ivan");
        var other = await CatalogFactory.LoginAsync(_host.CreateApiClient(), "ivan");
        Assert.Equal(HttpStatusCode.NoContent, (await user.PostAsync("/api/auth/logout", null, Ct)).StatusCode);
        await IsProblemAsync(await user.PostAsJsonAsync("/api/auth/refresh", new { refreshToken = other.RefreshToken }, Ct), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Logout_Anonymous_Unauthorized()
    {
        await IsProblemAsync(await _host.CreateApiClient().PostAsync("/api/auth/logout", null, Ct), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Jwks_BothAddresses_PublishKeyThatValidatesAccessTokens()
    {
        var user = await _host.UserAsync();
        // The Gateway exposes only /api: the well-known address is for the services that reach Catalog directly.
        foreach (var path in _host.ThroughGateway ? ["/api/auth/jwks"] : new[] { "/.well-known/jwks.json", "/api/auth/jwks" })
        {
            var json = await (await _host.CreateApiClient().GetAsync(path, Ct)).Content.ReadAsStringAsync(Ct);
            var set = new JsonWebKeySet(json);
            var key = Assert.Single(set.Keys);
            Assert.Equal("EC", key.Kty);
            Assert.Equal("P-256", key.Crv);
            Assert.Null(key.D); // never the private part
            var result = await new JsonWebTokenHandler().ValidateTokenAsync(user.DefaultRequestHeaders.Authorization!.Parameter, new TokenValidationParameters
            {
                ValidIssuer = "torrentedge",
                ValidAudience = "torrentedge",
                IssuerSigningKeys = set.GetSigningKeys(),
            });
            Assert.True(result.IsValid, result.Exception?.Message);
        }
    }

    [Fact]
    public async Task ApiTokens_CreateUseListRevoke()
    {
        var user = await _host.UserAsync();
        var created = await IsAsync<CreatedApiToken>(await user.PostAsJsonAsync("/api/auth/tokens", new { name = "script", expiresInDays = 30 }, Ct), HttpStatusCode.Created);
        Assert.StartsWith("te_pat_", created.Token);

        var script = _host.CreateApiClient();
        script.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created.Token);
        Assert.Equal(HttpStatusCode.OK, (await script.GetAsync("/api/auth/me", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await script.GetAsync("/api/torrents", Ct)).StatusCode);

        var listed = await (await user.GetAsync("/api/auth/tokens", Ct)).Content.ReadAsStringAsync(Ct);
        Assert.Contains(created.Id, listed);
        Assert.DoesNotContain(created.Token, listed);

        Assert.Equal(HttpStatusCode.NoContent, (await user.DeleteAsync($"/api/auth/tokens/{created.Id}", Ct)).StatusCode);
        await IsProblemAsync(await script.GetAsync("/api/auth/me", Ct), HttpStatusCode.Unauthorized);
        await IsProblemAsync(await user.DeleteAsync($"/api/auth/tokens/{created.Id}", Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ApiTokens_InvalidName_BadRequest()
    {
        var user = await _host.UserAsync();
        await IsProblemAsync(await user.PostAsJsonAsync("/api/auth/tokens", new { name = "" }, Ct), HttpStatusCode.BadRequest, "Invalid token name");
        await IsProblemAsync(await user.PostAsJsonAsync("/api/auth/tokens", new { name = "x", expiresInDays = 0 }, Ct), HttpStatusCode.BadRequest, "Invalid expiry");
    }

    [Fact]
    public async Task ApiTokens_OtherUsersToken_CannotRevoke()
    {
        var alice = await _host.UserAsync();
        var mallory = await _host.UserAsync();
        var created = await IsAsync<CreatedApiToken>(await alice.PostAsJsonAsync("/api/auth/tokens", new { name = "mine" }, Ct), HttpStatusCode.Created);
        await IsProblemAsync(await mallory.DeleteAsync($"/api/auth/tokens/{created.Id}", Ct), HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("{\"$gt\":\"\"}", "{\"$ne\":null}")]
    [InlineData("admin' --", "' OR '1'='1")]
    [InlineData("$where", "sleep(1000)")]
    public async Task Login_HostileCredentials_TreatedAsData(string username, string password)
    {
        await _host.AdminAsync();
        await IsProblemAsync(await _host.CreateApiClient().PostAsJsonAsync("/api/auth/login", new { username, password }, Ct),
            HttpStatusCode.Unauthorized, "Invalid credentials");
    }

    [Fact]
    public async Task ApiTokens_HostileNameAndId_TreatedAsData()
    {
        var user = await _host.UserAsync();
        const string name = "{\"$where\": \"this.a == 'b'\"} \\ \"quoted\"";
        var created = await IsAsync<CreatedApiToken>(await user.PostAsJsonAsync("/api/auth/tokens", new { name }, Ct), HttpStatusCode.Created);
        Assert.Equal(name, created.Name);
        var listed = await IsAsync<List<ApiTokenView>>(await user.GetAsync("/api/auth/tokens", Ct), HttpStatusCode.OK);
        Assert.Equal(name, Assert.Single(listed).Name);
        await IsProblemAsync(await user.DeleteAsync("/api/auth/tokens/%24where", Ct), HttpStatusCode.NotFound);
        await IsProblemAsync(await user.DeleteAsync("/api/auth/tokens/" + new string('x', 4000), Ct), HttpStatusCode.NotFound);
        Assert.Single(await IsAsync<List<ApiTokenView>>(await user.GetAsync("/api/auth/tokens", Ct), HttpStatusCode.OK));
    }

    [Fact]
    public async Task UnknownRoute_NotFoundProblem()
    {
        await IsProblemAsync(await _host.CreateApiClient().GetAsync("/api/nothing-here", Ct), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task OpenApi_DocumentListsEndpoints()
    {
        var json = await (await _host.CreateApiClient().GetAsync("/openapi/v1.json", Ct)).Content.ReadAsStringAsync(Ct);
        var paths = JsonDocument.Parse(json).RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/torrents/{infoHash}", out _));
        Assert.True(paths.TryGetProperty("/api/auth/login", out _));
    }
}

public sealed class LoginRateLimitTests
{
    [Fact]
    public async Task Login_OverRateLimit_TooManyRequestsProblem()
    {
        await using var factory = CatalogFactory.WithSetting("Auth:LoginPermitsPerMinute", "3");
        var client = factory.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            await client.PostAsJsonAsync("/api/auth/login", new { username = "x", password = "Wrong-password-1" }, TestContext.Current.CancellationToken);
        }
        var response = await client.PostAsJsonAsync("/api/auth/login", new { username = "x", password = "Wrong-password-1" }, TestContext.Current.CancellationToken);
        await IsProblemAsync(response, HttpStatusCode.TooManyRequests, "Too many attempts");
    }
}

public sealed class SigningKeyStartupTests
{
    private sealed class NoKeyFactory(string environment) : CatalogFactory
    {
        protected override void Configure(IWebHostBuilder builder)
        {
            builder.UseEnvironment(environment);
            builder.UseSetting("Auth:SigningKey", "");
        }
    }

    [Fact]
    public async Task Start_OutsideDevelopmentWithoutKey_Refuses()
    {
        await using var factory = new NoKeyFactory("Production");
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("signing key", error.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Start_DevelopmentWithoutKey_GeneratesAndPersistsKey()
    {
        await using var factory = new NoKeyFactory("Development");
        var kid = factory.Services.GetRequiredService<SigningKeys>().KeyId;
        var file = Path.Combine(factory.DataDirectory, SigningKeys.DevelopmentKeyFile);
        Assert.True(File.Exists(file));
        using var reloaded = SigningKeys.Load(new AuthOptions(), isDevelopment: true, factory.DataDirectory);
        Assert.Equal(kid, reloaded.KeyId);
    }
}

/// <summary>The AuthApi cases against Catalog itself.</summary>
public sealed class AuthApiTests(CatalogFactory factory) : AuthApiCases(factory), IClassFixture<CatalogFactory>;

/// <summary>The AuthApi cases through the real Gateway in front of a real Catalog.</summary>
public sealed class AuthApiThroughGatewayTests(GatewayCatalogFixture fixture) : AuthApiCases(fixture), IClassFixture<GatewayCatalogFixture>;

/// <summary>The AuthApi cases through the real Gateway in front of Catalog on MongoDB (skipped without a server).</summary>
public sealed class AuthApiThroughGatewayOnMongoTests(MongoGatewayCatalogFixture fixture) : AuthApiCases(fixture), IClassFixture<MongoGatewayCatalogFixture>;
