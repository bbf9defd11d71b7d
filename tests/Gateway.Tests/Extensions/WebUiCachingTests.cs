using System.Net;
using System.Text.RegularExpressions;
using TorrentEdge.Gateway.Tests.Infrastructure;

namespace TorrentEdge.Gateway.Tests.Extensions;

/// <summary>The web UI as the Gateway serves it (built into wwwroot by the Gateway's build from src/WebUi).</summary>
public sealed partial class WebUiCachingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Root_WebUiBuilt_IndexRevalidatedAndHashedAssetsCachedForAYear()
    {
        await using var gateway = new GatewayFactory(new Dictionary<string, string?>());
        using var client = gateway.CreateRealClient();

        using var index = await client.GetAsync("/", Ct);
        Assert.Equal(HttpStatusCode.OK, index.StatusCode);
        Assert.Equal("text/html", index.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-cache", index.Headers.CacheControl?.ToString());
        var html = await index.Content.ReadAsStringAsync(Ct);
        var script = AssetReference().Match(html);
        Assert.True(script.Success, "index.html names no hashed script under /assets/: " + html);

        using var asset = await client.GetAsync(script.Value, Ct);
        Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        Assert.Equal("text/javascript", asset.Content.Headers.ContentType?.MediaType);
        var cache = asset.Headers.CacheControl;
        Assert.True(cache is { Public: true, MaxAge.TotalDays: >= 365 } && cache.Extensions.Any(e => e.Name == "immutable"),
            $"{script.Value}: Cache-Control {cache}");
    }

    [Fact]
    public async Task Asset_ClientAcceptsBrotli_SentCompressed()
    {
        await using var gateway = new GatewayFactory(new Dictionary<string, string?>());
        using var client = gateway.CreateRealClient();
        var script = AssetReference().Match(await client.GetStringAsync("/", Ct)).Value;
        var plain = (await client.GetByteArrayAsync(script, Ct)).Length;

        using var request = new HttpRequestMessage(HttpMethod.Get, script);
        request.Headers.AcceptEncoding.ParseAdd("br");
        using var response = await client.SendAsync(request, Ct);

        Assert.Equal("br", Assert.Single(response.Content.Headers.ContentEncoding));
        var sent = (await response.Content.ReadAsByteArrayAsync(Ct)).Length;
        Assert.True(sent < plain / 2, $"{script}: {sent} bytes compressed, {plain} plain");
    }

    [GeneratedRegex(@"/assets/main-[A-Z0-9]+\.js")]
    private static partial Regex AssetReference();
}
