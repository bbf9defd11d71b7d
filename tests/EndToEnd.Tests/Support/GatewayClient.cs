using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace TorrentEdge.EndToEnd.Tests.Support;

/// <summary>What <c>GET /api/torrents/{hash}</c> answers, the fields the test looks at.</summary>
public sealed record TorrentStatusView(
    string InfoHash,
    string? Name,
    long TotalBytes,
    string State,
    double Progress,
    long DownloadRate,
    long DownloadedBytes,
    bool Paused,
    string? WorkerId,
    string? Error,
    int PeersConnected = 0,
    int PeersTotal = 0,
    IReadOnlyList<TrackerStatusView>? Trackers = null);

/// <summary>One tracker of a torrent's status: what the worker last heard from it.</summary>
public sealed record TrackerStatusView(string Url, string Health, int Seeders, int Leechers, string? LastError);

/// <summary>The public API as a user reaches it: everything through the Gateway, with a bearer token after log-in.</summary>
public sealed class GatewayClient(Uri gateway) : IDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http = new() { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(20) };

    public Uri Gateway => gateway;

    /// <summary>The access token from the last log-in.</summary>
    public string? AccessToken => _http.DefaultRequestHeaders.Authorization?.Parameter;

    /// <summary>The refresh token from the last log-in or refresh.</summary>
    public string? RefreshToken { get; private set; }

    public async Task RegisterAndLogInAsync(string user, string password, CancellationToken cancellationToken)
    {
        var credentials = new { username = user, password };
        using (var registered = await _http.PostAsJsonAsync("/api/auth/register", credentials, cancellationToken))
        {
            Assert.True(registered.StatusCode == HttpStatusCode.Created, $"register answered {(int)registered.StatusCode}: {await registered.Content.ReadAsStringAsync(cancellationToken)}");
        }
        await LogInAsync(user, password, cancellationToken);
    }

    public async Task LogInAsync(string user, string password, CancellationToken cancellationToken)
    {
        using var login = await _http.PostAsJsonAsync("/api/auth/login", new { username = user, password }, cancellationToken);
        await TakeTokensAsync(login, "login", cancellationToken);
    }

    /// <summary>POST /api/auth/refresh with <paramref name="refreshToken"/>; takes the new pair.</summary>
    public async Task RefreshAsync(string refreshToken, CancellationToken cancellationToken)
    {
        using var refreshed = await _http.PostAsJsonAsync("/api/auth/refresh", new { refreshToken }, cancellationToken);
        await TakeTokensAsync(refreshed, "refresh", cancellationToken);
    }

    private async Task TakeTokensAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{what} answered {(int)response.StatusCode}: {text}");
        using var body = JsonDocument.Parse(text);
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body.RootElement.GetProperty("accessToken").GetString());
        RefreshToken = body.RootElement.GetProperty("refreshToken").GetString();
    }

    /// <summary>POST /api/torrents, multipart with the .torrent file; returns the info-hash.</summary>
    public async Task<string> UploadAsync(string torrentPath, bool paused, CancellationToken cancellationToken)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(torrentPath, cancellationToken));
        file.Headers.ContentType = new MediaTypeHeaderValue("application/x-bittorrent");
        form.Add(file, "file", Path.GetFileName(torrentPath));
        form.Add(new StringContent(paused ? "true" : "false"), "paused");
        using var response = await _http.PostAsync("/api/torrents", form, cancellationToken);
        return await InfoHashOfAsync(response, cancellationToken);
    }

    /// <summary>POST /api/torrents with a magnet link; returns the info-hash.</summary>
    public async Task<string> AddMagnetAsync(string magnet, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsJsonAsync("/api/torrents", new { magnetURI = magnet }, cancellationToken);
        return await InfoHashOfAsync(response, cancellationToken);
    }

    private static async Task<string> InfoHashOfAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"adding a torrent answered {(int)response.StatusCode}: {text}");
        using var body = JsonDocument.Parse(text);
        return body.RootElement.GetProperty("infoHash").GetString()!;
    }

    /// <summary>GET /api/torrents/{hash}; null when 404.</summary>
    public async Task<TorrentStatusView?> GetAsync(string infoHash, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync($"/api/torrents/{infoHash}", cancellationToken);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {infoHash} answered {(int)response.StatusCode}: {text}");
        return JsonSerializer.Deserialize<TorrentStatusView>(text, Json)!;
    }

    /// <summary>GET of any JSON resource; fails the test on anything but 200.</summary>
    public async Task<JsonElement> GetJsonAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(path, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path} answered {(int)response.StatusCode}: {text}");
        using var body = JsonDocument.Parse(text);
        return body.RootElement.Clone();
    }

    public Task PauseAsync(string infoHash, CancellationToken cancellationToken) => PostAsync($"/api/torrents/{infoHash}/pause", cancellationToken);

    public Task ResumeAsync(string infoHash, CancellationToken cancellationToken) => PostAsync($"/api/torrents/{infoHash}/resume", cancellationToken);

    public async Task DeleteAsync(string infoHash, bool deleteData, CancellationToken cancellationToken)
    {
        using var response = await _http.DeleteAsync($"/api/torrents/{infoHash}?deleteData={(deleteData ? "true" : "false")}", cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, $"DELETE {infoHash} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
    }

    private async Task PostAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsync(path, null, cancellationToken);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
    }

    public void Dispose() => _http.Dispose();
}
