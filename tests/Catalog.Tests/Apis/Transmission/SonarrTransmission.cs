using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace TorrentEdge.Catalog.Tests.Apis.Transmission;

/// <summary>
/// The requests Sonarr's Transmission client (TransmissionProxy) sends: Basic credentials, the session id fetched with a
/// plain request that must answer 409 and kept until a 409 asks for a new one, and legacy RPC bodies
/// (<c>{"method": "...", "arguments": {...}}</c>) whose <c>result</c> must be "success".
/// </summary>
internal sealed class SonarrTransmission(Uri gateway, string user, string password, string category = "tv-sonarr")
{
    private readonly HttpClient _http = new(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false })
    {
        BaseAddress = gateway,
        Timeout = TimeSpan.FromSeconds(30),
    };

    private string? _sessionId;

    public int Handshakes { get; private set; }

    /// <summary>The fields Sonarr's GetTorrentStatus asks for.</summary>
    public static readonly string[] Fields =
    [
        "id", "hashString", "name", "downloadDir", "totalSize", "leftUntilDone", "isFinished", "eta", "status", "secondsDownloading",
        "secondsSeeding", "errorString", "uploadedEver", "downloadedEver", "seedRatioLimit", "seedRatioMode", "seedIdleLimit",
        "seedIdleMode", "fileCount", "file-count", "labels",
    ];

    private HttpRequestMessage Build(HttpMethod method, string? json)
    {
        var request = new HttpRequestMessage(method, "/transmission/rpc");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.Latin1.GetBytes($"{user}:{password}")));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (_sessionId is not null)
        {
            request.Headers.Add("X-Transmission-Session-Id", _sessionId);
        }
        if (json is not null)
        {
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }
        return request;
    }

    /// <summary>AuthenticateClient: a GET without a session id; 409 carries the id, anything else is a failure.</summary>
    public async Task AuthenticateAsync()
    {
        _sessionId = null;
        using var response = await _http.SendAsync(Build(HttpMethod.Get, null));
        Handshakes++;
        if (response.StatusCode != HttpStatusCode.Conflict)
        {
            throw new UnauthorizedAccessException($"Failed to authenticate with Transmission: {(int)response.StatusCode}");
        }
        _sessionId = response.Headers.GetValues("X-Transmission-Session-Id").Single();
    }

    public void ForgetSession(string stale) => _sessionId = stale;

    /// <summary>ProcessRequest: POST; a 409 renews the session id and repeats; 401 is an authentication failure.</summary>
    public async Task<JsonObject> ProcessAsync(string action, object? arguments)
    {
        if (_sessionId is null)
        {
            await AuthenticateAsync();
        }
        var data = new JsonObject { ["method"] = action };
        if (arguments is not null)
        {
            data["arguments"] = JsonSerializer.SerializeToNode(arguments);
        }
        var response = await _http.SendAsync(Build(HttpMethod.Post, data.ToJsonString()));
        if (response.StatusCode == HttpStatusCode.Conflict)
        {
            await AuthenticateAsync();
            response = await _http.SendAsync(Build(HttpMethod.Post, data.ToJsonString()));
        }
        else if (response.StatusCode == HttpStatusCode.Unauthorized)
        {
            throw new UnauthorizedAccessException("User authentication failed.");
        }
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        if ((string?)body["result"] != "success")
        {
            throw new InvalidOperationException((string?)body["result"]);
        }
        return body["arguments"]!.AsObject();
    }

    public async Task<JsonObject> GetConfigAsync() => await ProcessAsync("session-get", null);

    /// <summary>ValidateVersion: Sonarr's regex picks the version out of "4.1.1 (TorrentEdge)" and wants 2.40 or later.</summary>
    public static Version ParseVersion(string versionString) =>
        Version.Parse(Regex.Match(versionString, @"(?<!\(|(\d|\.)+)(\d|\.)+(?!\)|(\d|\.)+)").Value);

    public async Task<JsonArray> GetTorrentsAsync(IReadOnlyCollection<string>? hashes = null)
    {
        var arguments = new Dictionary<string, object> { ["fields"] = Fields };
        if (hashes is not null)
        {
            arguments["ids"] = hashes;
        }
        return (await ProcessAsync("torrent-get", arguments))["torrents"]!.AsArray();
    }

    /// <summary>GetDownloadDirectory: session-get's download-dir plus the category.</summary>
    public async Task<string> GetDownloadDirectoryAsync() => $"{((string)(await GetConfigAsync())["download-dir"]!).TrimEnd('/')}/{category}";

    public async Task AddFromUrlAsync(string url) => await ProcessAsync("torrent-add", new Dictionary<string, object>
    {
        ["filename"] = url, ["paused"] = false, ["download-dir"] = await GetDownloadDirectoryAsync(), ["labels"] = new[] { category },
    });

    public async Task AddFromDataAsync(byte[] data) => await ProcessAsync("torrent-add", new Dictionary<string, object>
    {
        ["metainfo"] = Convert.ToBase64String(data), ["paused"] = false, ["download-dir"] = await GetDownloadDirectoryAsync(), ["labels"] = new[] { category },
    });

    public Task SetSeedingAsync(string hash, double ratio, int idleMinutes) => ProcessAsync("torrent-set", new Dictionary<string, object>
    {
        ["ids"] = new[] { hash }, ["seedRatioLimit"] = ratio, ["seedRatioMode"] = 1, ["seedIdleLimit"] = idleMinutes, ["seedIdleMode"] = 1,
    });

    public Task MoveToTopAsync(string hash) => ProcessAsync("queue-move-top", new Dictionary<string, object> { ["ids"] = new[] { hash } });

    public Task SetLabelsAsync(string hash, IEnumerable<string> labels) =>
        ProcessAsync("torrent-set", new Dictionary<string, object> { ["ids"] = new[] { hash }, ["labels"] = labels.ToArray() });

    public Task RemoveAsync(string hash, bool deleteData) =>
        ProcessAsync("torrent-remove", new Dictionary<string, object> { ["ids"] = new[] { hash }, ["delete-local-data"] = deleteData });

    /// <summary>What Sonarr's TransmissionTorrent deserialises, checked for type.</summary>
    public static void AssertParsesAsSonarr(JsonObject t)
    {
        Assert.Equal(JsonValueKind.Number, t["id"]!.GetValueKind());
        _ = (int)t["id"]!;
        Assert.Matches("^[0-9a-f]{40}$", (string?)t["hashString"]);
        Assert.Equal(JsonValueKind.String, t["name"]!.GetValueKind());
        Assert.Equal(JsonValueKind.String, t["downloadDir"]!.GetValueKind());
        _ = (long)t["totalSize"]!;
        _ = (long)t["leftUntilDone"]!;
        Assert.Contains(t["isFinished"]!.GetValueKind(), new[] { JsonValueKind.True, JsonValueKind.False });
        Assert.Equal(JsonValueKind.Array, t["labels"]!.GetValueKind());
        _ = (long)t["eta"]!;
        Assert.InRange((int)t["status"]!, 0, 6);
        _ = (long)t["secondsDownloading"]!;
        _ = (long)t["secondsSeeding"]!;
        Assert.Equal(JsonValueKind.String, t["errorString"]!.GetValueKind());
        _ = (long)t["downloadedEver"]!;
        _ = (long)t["uploadedEver"]!;
        _ = (double)t["seedRatioLimit"]!;
        _ = (int)t["seedRatioMode"]!;
        _ = (long)t["seedIdleLimit"]!;
        _ = (int)t["seedIdleMode"]!;
        Assert.Equal((int)t["fileCount"]!, (int)t["file-count"]!);
    }
}
