extern alias peerworker;

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Claims;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using TorrentEdge.Catalog.Apis;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Contracts.Torrents;
using static TorrentEdge.Catalog.Tests.Apis.ProblemAssert;
using CatalogMetainfoClient = peerworker::TorrentEdge.PeerWorker.Infrastructure.CatalogMetainfoClient;
using CatalogServiceToken = peerworker::TorrentEdge.PeerWorker.Infrastructure.CatalogServiceToken;
using PeerWorkerOptions = peerworker::TorrentEdge.PeerWorker.Extensions.PeerWorkerOptions;

namespace TorrentEdge.Catalog.Tests.Apis;

/// <summary>
/// The PeerWorkers' service credential: client id and secret traded for a service token that reads any torrent's
/// metainfo (for metainfo too large to travel inline in a spec) and nothing else. The worker side is the real
/// PeerWorker <see cref="CatalogMetainfoClient"/> over TCP.
/// </summary>
public sealed class ServiceCredentialTests(KestrelCatalogFactory factory) : IClassFixture<KestrelCatalogFactory>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>Metainfo over the 256 KiB inline limit: 14,000 pieces of 16 KiB make a 280 KB pieces string.</summary>
    private static TestTorrents.TestTorrent Large() => TestTorrents.Single(Unique("large"), length: 14_000L * 16_384);

    private CatalogMetainfoClient WorkerClient(string? secret, string clientId = CatalogFactory.ServiceClientId) =>
        new(new HttpClient { BaseAddress = factory.Address, Timeout = TimeSpan.FromSeconds(30) },
            new CatalogServiceToken(Microsoft.Extensions.Options.Options.Create(new PeerWorkerOptions { CatalogClientId = clientId, CatalogClientSecret = secret }),
                TimeProvider.System));

    private async Task<string> ServiceTokenAsync()
    {
        var response = await factory.CreateClient().PostAsJsonAsync("/api/auth/service-token",
            new { clientId = CatalogFactory.ServiceClientId, clientSecret = CatalogFactory.ServiceClientSecret }, Ct);
        var token = await IsAsync<ServiceTokenResponse>(response, HttpStatusCode.OK);
        Assert.Equal("Bearer", token.TokenType);
        Assert.Equal(15 * 60, token.ExpiresIn);
        return token.AccessToken;
    }

    [Fact]
    public async Task LargeMetainfo_NotInlined_WorkerClientFetchesItWithServiceToken()
    {
        var owner = await factory.UserAsync();
        var torrent = Large();
        Assert.True(torrent.Bytes.Length > 256 * 1024);
        await IsAsync<TorrentView>(await TorrentsApiCases.UploadAsync(owner, torrent.Bytes), HttpStatusCode.Created);
        var spec = await factory.Publisher.WaitForAsync<TorrentSpecChanged>(s => s.InfoHash == torrent.InfoHash);
        Assert.Null(spec.Metainfo);
        Assert.True(spec.MetainfoAvailable);

        var bytes = await WorkerClient(CatalogFactory.ServiceClientSecret).GetMetainfoAsync(torrent.InfoHash, Ct);

        Assert.Equal(torrent.Bytes, bytes);
    }

    [Fact]
    public async Task WorkerClient_UnknownHash_Null()
    {
        Assert.Null(await WorkerClient(CatalogFactory.ServiceClientSecret).GetMetainfoAsync(new string('e', 40), Ct));
    }

    [Fact]
    public async Task WorkerClient_WrongOrMissingCredential_Refused()
    {
        var owner = await factory.UserAsync();
        var torrent = Large();
        await TorrentsApiCases.UploadAsync(owner, torrent.Bytes);

        var wrong = await Assert.ThrowsAsync<InvalidOperationException>(() => WorkerClient("wrong-secret-but-long-enough-0123456789").GetMetainfoAsync(torrent.InfoHash, Ct));
        Assert.Contains("refused the service credentials", wrong.Message);
        await Assert.ThrowsAsync<InvalidOperationException>(() => WorkerClient(CatalogFactory.ServiceClientSecret, clientId: "notifier").GetMetainfoAsync(torrent.InfoHash, Ct));
        var missing = await Assert.ThrowsAsync<HttpRequestException>(() => WorkerClient(null).GetMetainfoAsync(torrent.InfoHash, Ct));
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
    }

    [Theory]
    [InlineData("peerworker", "wrong-secret-but-long-enough-0123456789")]
    [InlineData("peerworker", "test-service-secret-0123456789abcdeF")]
    [InlineData("notifier", "test-service-secret-0123456789abcdef")]
    [InlineData("{\"$ne\":null}", "{\"$ne\":null}")]
    public async Task ServiceToken_WrongCredentials_Unauthorized(string clientId, string clientSecret)
    {
        var response = await factory.CreateClient().PostAsJsonAsync("/api/auth/service-token", new { clientId, clientSecret }, Ct);
        await IsProblemAsync(response, HttpStatusCode.Unauthorized, "Invalid client credentials");
    }

    [Fact]
    public async Task ServiceToken_MissingFields_BadRequest()
    {
        await IsProblemAsync(await factory.CreateClient().PostAsJsonAsync("/api/auth/service-token", new { clientId = "peerworker" }, Ct),
            HttpStatusCode.BadRequest, "Invalid request");
    }

    [Fact]
    public async Task Metainfo_NoOrForgedBearer_Unauthorized()
    {
        var owner = await factory.UserAsync();
        var torrent = TestTorrents.Single(Unique("small"));
        await TorrentsApiCases.UploadAsync(owner, torrent.Bytes);
        var url = $"/api/torrents/{torrent.InfoHash}/metainfo";
        await IsProblemAsync(await factory.CreateClient().GetAsync(url, Ct), HttpStatusCode.Unauthorized);
        var forged = factory.CreateClient();
        forged.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", CatalogFactory.ServiceClientSecret);
        await IsProblemAsync(await forged.GetAsync(url, Ct), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task ServiceToken_ReadsAnyMetainfo_NothingElse()
    {
        var owner = await factory.UserAsync();
        var torrent = TestTorrents.Single(Unique("svc"));
        await TorrentsApiCases.UploadAsync(owner, torrent.Bytes);
        var service = factory.CreateClient();
        service.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await ServiceTokenAsync());
        var url = $"/api/torrents/{torrent.InfoHash}";

        var metainfo = await service.GetAsync(url + "/metainfo", Ct);
        Assert.Equal(HttpStatusCode.OK, metainfo.StatusCode);
        Assert.Equal(torrent.Bytes, await metainfo.Content.ReadAsByteArrayAsync(Ct));

        await IsProblemAsync(await service.GetAsync(url, Ct), HttpStatusCode.Forbidden);
        await IsProblemAsync(await service.GetAsync("/api/torrents", Ct), HttpStatusCode.Forbidden);
        await IsProblemAsync(await service.PostAsync(url + "/pause", null, Ct), HttpStatusCode.Forbidden);
        await IsProblemAsync(await service.DeleteAsync(url, Ct), HttpStatusCode.Forbidden);
        await IsProblemAsync(await TorrentsApiCases.UploadAsync(service, TestTorrents.Single(Unique("svc-add")).Bytes), HttpStatusCode.Forbidden);
        await IsProblemAsync(await service.GetAsync("/api/auth/me", Ct), HttpStatusCode.Forbidden);
        await IsProblemAsync(await service.PostAsJsonAsync("/api/auth/tokens", new { name = "escalate" }, Ct), HttpStatusCode.Forbidden);
        await IsProblemAsync(await service.GetAsync("/api/admin/users", Ct), HttpStatusCode.Forbidden);
        await IsProblemAsync(await service.GetAsync($"/api/torrents/{new string('d', 40)}/metainfo", Ct), HttpStatusCode.NotFound);
        // Still the owner's, untouched.
        Assert.False((await IsAsync<TorrentView>(await owner.GetAsync(url, Ct), HttpStatusCode.OK)).Paused);
    }

    [Fact]
    public async Task UserToken_OtherUsersLargeTorrentMetainfo_StillNotFound()
    {
        var owner = await factory.UserAsync();
        var other = await factory.UserAsync();
        var torrent = Large();
        await TorrentsApiCases.UploadAsync(owner, torrent.Bytes);
        await IsProblemAsync(await other.GetAsync($"/api/torrents/{torrent.InfoHash}/metainfo", Ct), HttpStatusCode.NotFound, "Unknown torrent");
        Assert.Equal(HttpStatusCode.OK, (await owner.GetAsync($"/api/torrents/{torrent.InfoHash}/metainfo", Ct)).StatusCode);
    }

    [Theory]
    [InlineData("torrentedge-catalog", "admin")]
    [InlineData("torrentedge", "service")]
    public async Task SignedToken_AudienceAndRoleMismatched_Unauthorized(string audience, string role)
    {
        var admin = await factory.AdminAsync();
        var adminId = new JsonWebToken(admin.DefaultRequestHeaders.Authorization!.Parameter!).Subject;
        var owner = await factory.UserAsync();
        var torrent = TestTorrents.Single(Unique("mismatch"));
        await TorrentsApiCases.UploadAsync(owner, torrent.Bytes);
        // Signed with Catalog's real key: only the pairing of audience and role can give it away.
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "torrentedge",
            Audience = audience,
            Expires = DateTime.UtcNow.AddMinutes(5),
            SigningCredentials = factory.Services.GetRequiredService<SigningKeys>().SigningCredentials,
            Subject = new ClaimsIdentity([new Claim("sub", role == "service" ? "service:peerworker" : adminId), new Claim("name", "peerworker"), new Claim("role", role)]),
        });
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await IsProblemAsync(await client.GetAsync($"/api/torrents/{torrent.InfoHash}/metainfo", Ct), HttpStatusCode.Unauthorized);
    }
}

public sealed class ServiceCredentialStartupTests
{
    [Fact]
    public async Task Start_ShortServiceSecret_Refuses()
    {
        await using var factory = CatalogFactory.WithSetting("Auth:ServiceClients:peerworker", "short");
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("Auth:ServiceClients:peerworker", error.ToString());
    }
}

/// <summary>Catalog, like every service (AddServiceDefaults), refuses to start outside Development with Development keys or secrets.</summary>
public sealed class ProductionGuardStartupTests
{
    [Fact]
    public async Task Start_DevelopmentOnlySecretOutsideDevelopment_Refuses()
    {
        await using var factory = CatalogFactory.WithSetting("Auth:ServiceClients:peerworker", "DEV-ONLY-peerworker-secret-not-for-production");
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("Refusing to start", error.ToString());
        Assert.Contains("Auth:ServiceClients:peerworker holds a development-only value", error.ToString());
    }

    [Fact]
    public async Task Start_KeyGeneratedInDevelopmentUsedOutsideIt_Refuses()
    {
        var directory = Directory.CreateTempSubdirectory();
        try
        {
            // What Catalog writes in Development; it still loads there.
            using var generated = SigningKeys.Load(new AuthOptions(), isDevelopment: true, directory.FullName);
            var path = Path.Combine(directory.FullName, SigningKeys.DevelopmentKeyFile);
            Assert.Contains(TorrentEdge.ServiceDefaults.Hosting.ProductionGuard.DevelopmentKeyMarker, await File.ReadAllTextAsync(path, TestContext.Current.CancellationToken));

            await using var factory = CatalogFactory.WithSetting("Auth:SigningKeyPath", path);
            var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
            Assert.Contains("holds the signing key generated for Development", error.ToString());
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
