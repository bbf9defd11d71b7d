using System.Net;
using TorrentEdge.PeerWorker.Extensions;
using TorrentEdge.PeerWorker.Infrastructure;

namespace TorrentEdge.PeerWorker.Tests.Infrastructure;

public sealed class CatalogMetainfoClientTests
{
    [Fact]
    public async Task GetMetainfo_WithServiceToken_SendsBearerAndReturnsBytes()
    {
        var handler = new StubHandler(HttpStatusCode.OK, [1, 2, 3]);
        var client = Create(handler, token: "secret");

        var bytes = await client.GetMetainfoAsync("abcd", TestContext.Current.CancellationToken);

        Assert.Equal([1, 2, 3], bytes);
        Assert.Equal("http://catalog/api/torrents/abcd/metainfo", handler.Request!.RequestUri!.ToString());
        Assert.Equal("Bearer secret", handler.Request.Headers.Authorization!.ToString());
    }

    [Fact]
    public async Task GetMetainfo_NoToken_SendsNoAuthorization()
    {
        var handler = new StubHandler(HttpStatusCode.OK, [1]);

        await Create(handler, token: null).GetMetainfoAsync("abcd", TestContext.Current.CancellationToken);

        Assert.Null(handler.Request!.Headers.Authorization);
    }

    [Fact]
    public async Task GetMetainfo_NotFound_ReturnsNull()
    {
        var bytes = await Create(new StubHandler(HttpStatusCode.NotFound, []), null).GetMetainfoAsync("abcd", TestContext.Current.CancellationToken);

        Assert.Null(bytes);
    }

    [Fact]
    public async Task GetMetainfo_ServerError_Throws()
    {
        var client = Create(new StubHandler(HttpStatusCode.InternalServerError, []), null);

        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetMetainfoAsync("abcd", TestContext.Current.CancellationToken));
    }

    private static CatalogMetainfoClient Create(StubHandler handler, string? token)
        => new(new HttpClient(handler) { BaseAddress = new Uri(CatalogMetainfoClient.BaseAddress) },
            Microsoft.Extensions.Options.Options.Create(new PeerWorkerOptions { ServiceToken = token }));

    private sealed class StubHandler(HttpStatusCode status, byte[] body) : HttpMessageHandler
    {
        public HttpRequestMessage? Request { get; private set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Request = request;
            return Task.FromResult(new HttpResponseMessage(status) { Content = new ByteArrayContent(body) });
        }
    }
}
