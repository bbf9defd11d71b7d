using System.Net;
using System.Net.Http.Headers;
using System.Numerics;
using System.Text;
using System.Text.Json;

namespace TorrentEdge.Catalog.Tests.Apis.QBittorrent;

/// <summary>
/// The requests Sonarr's qBittorrent client (src/NzbDrone.Core/Download/Clients/QBittorrent, QBittorrentProxyV2) sends,
/// in its order and shape: Basic credentials on every request (its BasicNetworkCredential), an SID cookie from
/// auth/login kept and sent back by hand, a new log-in on 403, and the form fields it posts.
/// </summary>
internal sealed class SonarrQBittorrent(Uri gateway, string user, string password, string category = "tv-sonarr")
{
    private readonly HttpClient _http = new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false })
    {
        BaseAddress = gateway,
        Timeout = TimeSpan.FromSeconds(30),
    };

    private string? _cookie;

    public string Category => category;

    public List<string> Log { get; } = [];

    private HttpRequestMessage Build(HttpMethod method, string resource, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, resource) { Content = content };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.Latin1.GetBytes($"{user}:{password}")));
        if (_cookie is not null)
        {
            request.Headers.Add("Cookie", _cookie);
        }
        return request;
    }

    /// <summary>IsApiSupported: app/webapiVersion without a session; 404 means API v1, 403 or 200 means v2.</summary>
    public async Task<HttpStatusCode> IsApiSupportedAsync()
    {
        using var response = await _http.SendAsync(Build(HttpMethod.Get, "/api/v2/app/webapiVersion"));
        Log.Add($"GET app/webapiVersion (probe) -> {(int)response.StatusCode}");
        return response.StatusCode;
    }

    /// <summary>AuthenticateClient: POST auth/login; anything but empty or "Ok." is an authentication failure.</summary>
    public async Task LoginAsync()
    {
        using var response = await _http.SendAsync(Build(HttpMethod.Post, "/api/v2/auth/login",
            new FormUrlEncodedContent([new("username", user), new("password", password)])));
        var body = await response.Content.ReadAsStringAsync();
        Log.Add($"POST auth/login -> {(int)response.StatusCode} {body}");
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden || body.Length > 0 && body != "Ok.")
        {
            throw new InvalidOperationException("Failed to authenticate with qBittorrent.");
        }
        response.EnsureSuccessStatusCode();
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("SID=", StringComparison.Ordinal));
        _cookie = setCookie.Split(';')[0];
    }

    /// <summary>ProcessRequest: with the session; on 403 logs in again and repeats once. Throws on any other HTTP error.</summary>
    public async Task<string> ProcessAsync(HttpMethod method, string resource, Func<HttpContent?>? content = null)
    {
        if (_cookie is null)
        {
            await LoginAsync();
        }
        var response = await _http.SendAsync(Build(method, resource, content?.Invoke()));
        if (response.StatusCode == HttpStatusCode.Forbidden)
        {
            await LoginAsync();
            response = await _http.SendAsync(Build(method, resource, content?.Invoke()));
        }
        var body = await response.Content.ReadAsStringAsync();
        Log.Add($"{method} {resource} -> {(int)response.StatusCode}");
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"{method} {resource}: {(int)response.StatusCode} {body}", null, response.StatusCode);
        }
        return body;
    }

    public async Task<Version> GetApiVersionAsync() => Version.Parse(await ProcessAsync(HttpMethod.Get, "/api/v2/app/webapiVersion"));

    public async Task<string> GetVersionAsync() => (await ProcessAsync(HttpMethod.Get, "/api/v2/app/version")).TrimStart('v');

    public async Task<JsonElement> GetConfigAsync() => JsonDocument.Parse(await ProcessAsync(HttpMethod.Get, "/api/v2/app/preferences")).RootElement;

    public async Task<JsonElement> GetLabelsAsync() => JsonDocument.Parse(await ProcessAsync(HttpMethod.Get, "/api/v2/torrents/categories")).RootElement;

    public Task AddLabelAsync(string label) =>
        ProcessAsync(HttpMethod.Post, "/api/v2/torrents/createCategory", () => new FormUrlEncodedContent([new("category", label)]));

    public async Task<JsonElement> GetTorrentsAsync() =>
        JsonDocument.Parse(await ProcessAsync(HttpMethod.Get, "/api/v2/torrents/info?category=" + Uri.EscapeDataString(category))).RootElement;

    /// <summary>AddTorrentFromUrl / AddTorrentFromFile with Sonarr's download and seeding form parameters (API >= 2.11: "stopped").</summary>
    public async Task<string> AddAsync(string? magnet, (string Name, byte[] Bytes)? file, double? ratio = null, TimeSpan? seedTime = null)
    {
        var stoppedName = await GetApiVersionAsync() >= new Version(2, 11, 0) ? "stopped" : "paused";
        return await ProcessAsync(HttpMethod.Post, "/api/v2/torrents/add", () =>
        {
            var form = new MultipartFormDataContent();
            if (magnet is not null)
            {
                form.Add(new StringContent(magnet), "urls");
            }
            if (file is { } f)
            {
                form.Add(new ByteArrayContent(f.Bytes), "torrents", f.Name);
            }
            form.Add(new StringContent(category), "category");
            form.Add(new StringContent("False"), stoppedName);
            if (ratio is not null || seedTime is not null)
            {
                form.Add(new StringContent((ratio ?? -2).ToString(System.Globalization.CultureInfo.InvariantCulture)), "ratioLimit");
                form.Add(new StringContent(((long?)seedTime?.TotalMinutes ?? -2).ToString(System.Globalization.CultureInfo.InvariantCulture)), "seedingTimeLimit");
            }
            return form;
        });
    }

    /// <summary>WaitForTorrent: torrents/properties until it answers, 10 times 100 ms at most.</summary>
    public async Task<bool> WaitForTorrentAsync(string hash)
    {
        for (var i = 0; i < 10; i++)
        {
            try
            {
                await ProcessAsync(HttpMethod.Get, "/api/v2/torrents/properties?hash=" + hash.ToLowerInvariant());
                return true;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100);
            }
        }
        return false;
    }

    /// <summary>MoveTorrentToTopInQueue: a 409 (queueing off) is accepted silently.</summary>
    public async Task<bool> MoveToTopAsync(string hash)
    {
        try
        {
            await ProcessAsync(HttpMethod.Post, "/api/v2/torrents/topPrio", () => new FormUrlEncodedContent([new("hashes", hash)]));
            return true;
        }
        catch (HttpRequestException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            return false;
        }
    }

    public Task SetForceStartAsync(string hash) =>
        ProcessAsync(HttpMethod.Post, "/api/v2/torrents/setForceStart", () => new FormUrlEncodedContent([new("hashes", hash), new("value", "true")]));

    public Task AddTagsAsync(string hash, params string[] tags) =>
        ProcessAsync(HttpMethod.Post, "/api/v2/torrents/addTags", () => new FormUrlEncodedContent([new("hashes", hash), new("tags", string.Join(",", tags))]));

    /// <summary>MarkItemAsImported: setCategory to the post-import category.</summary>
    public Task SetLabelAsync(string hash, string label) =>
        ProcessAsync(HttpMethod.Post, "/api/v2/torrents/setCategory", () => new FormUrlEncodedContent([new("hashes", hash), new("category", label)]));

    public Task RemoveAsync(string hash, bool deleteData) =>
        ProcessAsync(HttpMethod.Post, "/api/v2/torrents/delete", () => new FormUrlEncodedContent(
            deleteData ? [new("hashes", hash), new("deleteFiles", "true")] : [new("hashes", hash)]));

    /// <summary>What Sonarr's QBittorrentTorrent deserialises, checked for type; returns nothing when a field is missing or mistyped.</summary>
    public static void AssertParsesAsSonarr(JsonElement torrent)
    {
        Assert.Equal(JsonValueKind.String, torrent.GetProperty("hash").ValueKind);
        Assert.Matches("^[0-9a-f]{40}$", torrent.GetProperty("hash").GetString());
        Assert.Equal(JsonValueKind.String, torrent.GetProperty("name").ValueKind);
        torrent.GetProperty("size").GetInt64();
        var progress = torrent.GetProperty("progress").GetDouble();
        Assert.InRange(progress, 0, 1);
        Assert.True(BigInteger.TryParse(torrent.GetProperty("eta").GetRawText(), out _), "eta is an integer");
        Assert.Contains(torrent.GetProperty("state").GetString(), KnownStates);
        Assert.Equal(JsonValueKind.String, torrent.GetProperty("category").ValueKind);
        Assert.Equal(JsonValueKind.String, torrent.GetProperty("save_path").ValueKind);
        Assert.Equal(JsonValueKind.String, torrent.GetProperty("content_path").ValueKind);
        torrent.GetProperty("ratio").GetSingle();
        torrent.GetProperty("ratio_limit").GetSingle();
        torrent.GetProperty("seeding_time_limit").GetInt64();
        torrent.GetProperty("inactive_seeding_time_limit").GetInt64();
        torrent.GetProperty("last_activity").GetInt64();
    }

    /// <summary>Every state Sonarr's GetItems handles by name (anything else is "unknown state" to it).</summary>
    public static readonly string[] KnownStates =
    [
        "error", "stoppedDL", "pausedDL", "queuedDL", "checkingDL", "checkingUP", "checkingResumeData", "pausedUP", "stoppedUP",
        "uploading", "stalledUP", "queuedUP", "forcedUP", "stalledDL", "missingFiles", "metaDL", "forcedMetaDL", "forcedDL",
        "moving", "downloading",
    ];
}
