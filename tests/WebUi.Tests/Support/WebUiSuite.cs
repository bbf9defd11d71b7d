using System.Globalization;
using System.Net.Http.Json;
using Microsoft.Playwright;
using TorrentEdge.AppHost;
using TorrentEdge.AppHost.Tests;

namespace TorrentEdge.WebUi.Tests.Support;

/// <summary>
/// The suite as the AppHost declares it (one PeerWorker, no Redis, a temporary data folder) and Debian's chromium driven by
/// Playwright, shared by the browser tests of one class. The first account (the administrator) is registered here, so
/// every test's own user is an ordinary one.
/// </summary>
public sealed class WebUiSuite : IAsyncLifetime
{
    public const string Chromium = "/usr/bin/chromium";
    public const string AdminName = "admin";
    public const string Password = "correct-horse-42";

    private IPlaywright? _playwright;
    private readonly string _work = Directory.CreateTempSubdirectory("te-webui-").FullName;

    public SuiteApp Suite { get; private set; } = null!;
    public IBrowser Browser { get; private set; } = null!;
    public Uri Gateway => Suite.GatewayUrl;
    public string Work => _work;

    /// <summary>Screenshots and measurements: under the test's output folder, kept after the run.</summary>
    public string Artifacts { get; } = Path.Combine(AppContext.BaseDirectory, "artifacts",
        DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture));

    public static bool CanRun => File.Exists(Chromium);

    public async ValueTask InitializeAsync()
    {
        if (!CanRun)
        {
            return;
        }
        Directory.CreateDirectory(Artifacts);
        var ct = TestContext.Current.CancellationToken;
        Suite = await SuiteApp.StartAsync(Path.Combine(_work, "suite"), ["--workers", "1", "--redis", "off"], builder =>
        {
            SuiteApp.SetEnvironment(builder, Topology.PeerWorker, new Dictionary<string, string> { ["PeerWorker__ListenAddress"] = "127.0.0.1" });
            // Many log-ins and pages from one address within a minute.
            SuiteApp.SetEnvironment(builder, Topology.Gateway, new Dictionary<string, string> { ["Gateway__RateLimit__PermitLimit"] = "1000000" });
            // Share limits checked every 2 s (10 s by default), so a reached limit shows within a test's patience.
            SuiteApp.SetEnvironment(builder, Topology.Catalog, new Dictionary<string, string>
            {
                ["Auth__LoginPermitsPerMinute"] = "10000", ["Catalog__ShareLimitCheckInterval"] = "00:00:02",
            });
        }, ct);
        await Suite.WaitUntilHealthyAsync(workers: 1, TimeSpan.FromSeconds(180), ct);

        using var http = new HttpClient { BaseAddress = Gateway, Timeout = TimeSpan.FromSeconds(20) };
        using var register = await http.PostAsJsonAsync("/api/auth/register", new { username = AdminName, password = Password }, ct);
        register.EnsureSuccessStatusCode();

        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            // ../shared/FACTS.md: what Debian's chromium needs here (Playwright gives each context a fresh profile).
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }
        _playwright?.Dispose();
        if (Suite is not null)
        {
            await Suite.DisposeAsync();
        }
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
