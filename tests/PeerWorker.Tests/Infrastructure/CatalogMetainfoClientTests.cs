using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using TorrentEdge.PeerWorker.Extensions;
using TorrentEdge.PeerWorker.Infrastructure;

namespace TorrentEdge.PeerWorker.Tests.Infrastructure;

public sealed class CatalogMetainfoClientTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetMetainfo_WithCredentials_TradesThemForServiceTokenOnceAndSendsBearer()
    {
        var catalog = new StubCatalog();
        var tokens = Tokens("s3cret", new FakeTimeProvider());

        Assert.Equal([1, 2, 3], await Create(catalog, tokens).GetMetainfoAsync("abcd", Ct));
        Assert.Equal([1, 2, 3], await Create(catalog, tokens).GetMetainfoAsync("abcd", Ct));

        var tokenRequest = Assert.Single(catalog.Requests, r => r.Method == HttpMethod.Post);
        Assert.Equal("http://catalog/api/auth/service-token", tokenRequest.Uri);
        Assert.Contains("\"clientId\":\"peerworker\"", tokenRequest.Body);
        Assert.Contains("\"clientSecret\":\"s3cret\"", tokenRequest.Body);
        var gets = catalog.Requests.Where(r => r.Method == HttpMethod.Get).ToList();
        Assert.Equal(2, gets.Count);
        Assert.All(gets, g => Assert.Equal("http://catalog/api/torrents/abcd/metainfo", g.Uri));
        Assert.All(gets, g => Assert.Equal("Bearer token-1", g.Authorization));
    }

    [Fact]
    public async Task GetMetainfo_TokenAboutToExpire_Renewed()
    {
        var catalog = new StubCatalog();
        var time = new FakeTimeProvider();
        var tokens = Tokens("s3cret", time);
        await Create(catalog, tokens).GetMetainfoAsync("abcd", Ct);

        time.Advance(TimeSpan.FromSeconds(StubCatalog.ExpiresIn) - TimeSpan.FromSeconds(30));
        await Create(catalog, tokens).GetMetainfoAsync("abcd", Ct);

        Assert.Equal(2, catalog.Requests.Count(r => r.Method == HttpMethod.Post));
        Assert.Equal("Bearer token-2", catalog.Requests.Last().Authorization);
    }

    [Fact]
    public async Task GetMetainfo_UnauthorizedWithCachedToken_RenewsOnceAndRetries()
    {
        var catalog = new StubCatalog { RejectToken = "token-1" };

        var bytes = await Create(catalog, Tokens("s3cret", new FakeTimeProvider())).GetMetainfoAsync("abcd", Ct);

        Assert.Equal([1, 2, 3], bytes);
        Assert.Equal(["Bearer token-1", "Bearer token-2"], catalog.Requests.Where(r => r.Method == HttpMethod.Get).Select(r => r.Authorization));
    }

    [Fact]
    public async Task GetMetainfo_WrongCredentials_ThrowsSayingSo()
    {
        var catalog = new StubCatalog { RefuseCredentials = true };

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => Create(catalog, Tokens("wrong", new FakeTimeProvider())).GetMetainfoAsync("abcd", Ct));

        Assert.Contains("refused the service credentials", error.Message);
        Assert.DoesNotContain(catalog.Requests, r => r.Method == HttpMethod.Get);
    }

    [Fact]
    public async Task GetMetainfo_NoSecret_SendsNoAuthorization()
    {
        var catalog = new StubCatalog();

        await Create(catalog, Tokens(null, new FakeTimeProvider())).GetMetainfoAsync("abcd", Ct);

        var request = Assert.Single(catalog.Requests);
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Null(request.Authorization);
    }

    [Fact]
    public async Task GetMetainfo_NotFound_ReturnsNull()
    {
        var catalog = new StubCatalog { MetainfoStatus = HttpStatusCode.NotFound };

        Assert.Null(await Create(catalog, Tokens("s3cret", new FakeTimeProvider())).GetMetainfoAsync("abcd", Ct));
    }

    [Fact]
    public async Task GetMetainfo_ServerError_Throws()
    {
        var catalog = new StubCatalog { MetainfoStatus = HttpStatusCode.InternalServerError };

        await Assert.ThrowsAsync<HttpRequestException>(() => Create(catalog, Tokens("s3cret", new FakeTimeProvider())).GetMetainfoAsync("abcd", Ct));
    }

    private static CatalogServiceToken Tokens(string? secret, TimeProvider time) =>
        new(Microsoft.Extensions.Options.Options.Create(new PeerWorkerOptions { CatalogClientSecret = secret }), time);

    private static CatalogMetainfoClient Create(StubCatalog catalog, CatalogServiceToken tokens) =>
        new(new HttpClient(catalog) { BaseAddress = new Uri(CatalogMetainfoClient.BaseAddress) }, tokens);

    private sealed record Seen(HttpMethod Method, string Uri, string? Authorization, string? Body);

    /// <summary>Catalog's two endpoints as the client sees them: the service-token exchange and the metainfo.</summary>
    private sealed class StubCatalog : HttpMessageHandler
    {
        public const int ExpiresIn = 900;

        private int _issued;

        public List<Seen> Requests { get; } = [];

        public HttpStatusCode MetainfoStatus { get; init; } = HttpStatusCode.OK;

        public bool RefuseCredentials { get; init; }

        public string? RejectToken { get; init; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
            Requests.Add(new Seen(request.Method, request.RequestUri!.ToString(), request.Headers.Authorization?.ToString(), body));
            if (request.Method == HttpMethod.Post)
            {
                return RefuseCredentials
                    ? new HttpResponseMessage(HttpStatusCode.Unauthorized)
                    : new HttpResponseMessage(HttpStatusCode.OK)
                    {
                        Content = new StringContent($"{{\"accessToken\":\"token-{++_issued}\",\"expiresIn\":{ExpiresIn},\"tokenType\":\"Bearer\"}}",
                            Encoding.UTF8, "application/json"),
                    };
            }
            if (RejectToken is not null && request.Headers.Authorization?.Parameter == RejectToken)
            {
                return new HttpResponseMessage(HttpStatusCode.Unauthorized);
            }
            return new HttpResponseMessage(MetainfoStatus) { Content = new ByteArrayContent([1, 2, 3]) };
        }
    }
}
