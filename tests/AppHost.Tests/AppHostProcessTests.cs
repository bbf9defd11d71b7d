using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace TorrentEdge.AppHost.Tests;

/// <summary><c>dotnet run --project src/AppHost</c> as a person runs it: the dashboard, the Gateway, a clean stop.</summary>
public sealed partial class AppHostProcessTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DotnetRun_Suite_DashboardLogsInGatewayAnswersAndSigtermLeavesNoProcess()
    {
        var dataDir = Directory.CreateTempSubdirectory("torrentedge-apphost-").FullName;
        var gatewayPort = FreePort();
        using var run = AppHostProcess.Start(["--data-dir", dataDir, "--gateway-port", gatewayPort.ToString(CultureInfo.InvariantCulture)]);
        var pids = new HashSet<int>();
        try
        {
            var started = Stopwatch.StartNew();
            await WaitForOutputAsync(run, "TorrentEdge is ready", TimeSpan.FromSeconds(120));
            TestContext.Current.TestOutputHelper?.WriteLine($"Gateway ready after {started.Elapsed.TotalSeconds:0.0} s");
            // Six service processes (two workers), the embedded Kafka, and redis-server where installed.
            var whole = File.Exists("/usr/bin/redis-server") ? 8 : 7;
            await WaitForOutputAsync(run, $"All {whole} processes of the suite are running and healthy", TimeSpan.FromSeconds(120));
            TestContext.Current.TestOutputHelper?.WriteLine($"all healthy after {started.Elapsed.TotalSeconds:0.0} s");

            // The login URL the console printed logs in: a cookie, then the resources page.
            var login = LoginUrl().Match(run.Output);
            Assert.True(login.Success, "no dashboard login URL printed:\n" + run.Tail());
            using var cookies = new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false };
            using var dashboard = new HttpClient(cookies) { Timeout = TimeSpan.FromSeconds(20) };
            var dashboardRoot = new Uri(new Uri(login.Value).GetLeftPart(UriPartial.Authority));
            using (var anonymous = await new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }).GetAsync(dashboardRoot, Ct))
            {
                Assert.NotEqual(HttpStatusCode.OK, anonymous.StatusCode); // without the token the dashboard sends people to its login page
            }
            using (var loggedIn = await dashboard.GetAsync(new Uri(login.Value), Ct))
            {
                Assert.Equal(HttpStatusCode.Redirect, loggedIn.StatusCode);
                Assert.NotEmpty(cookies.CookieContainer.GetCookies(dashboardRoot));
            }
            using (var resources = await dashboard.GetAsync(dashboardRoot, Ct))
            {
                Assert.Equal(HttpStatusCode.OK, resources.StatusCode);
                Assert.Contains("Aspire", await resources.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
            }

            // The Gateway answers through Catalog: the torrents API wants a token.
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            using (var torrents = await http.GetAsync(new Uri($"http://localhost:{gatewayPort}/api/torrents"), Ct))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, torrents.StatusCode);
            }

            // Every process of the suite: the dotnet run tree, DCP (which detaches and watches the AppHost's pid),
            // and each service (found by its data folder).
            var appHostPid = ProcessTree.Children(run.Process.Id).Single(p => ProcessTree.CommandLine(p).Contains("TorrentEdge.AppHost", StringComparison.Ordinal));
            pids.UnionWith(ProcessTree.Descendants(run.Process.Id));
            foreach (var dcp in ProcessTree.All().Where(p => ProcessTree.CommandLine(p).Contains($"--monitor {appHostPid}", StringComparison.Ordinal)))
            {
                pids.UnionWith(ProcessTree.Descendants(dcp));
            }
            var services = ProcessTree.WithEnvironment("TorrentEdge__DataDir", dataDir);
            Assert.True(services.Count >= 6, $"expected 6 service processes (2 workers), found {services.Count}");
            pids.UnionWith(services);

            run.Signal("TERM");
            Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(60), Ct), "dotnet run did not exit after SIGTERM:\n" + run.Tail());
            var deadline = Stopwatch.StartNew();
            while (pids.Any(ProcessTree.IsAlive) && deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(250, Ct);
            }
            var alive = pids.Where(ProcessTree.IsAlive).Select(p => $"{p} {ProcessTree.CommandLine(p)}").ToList();
            Assert.True(alive.Count == 0, "left behind after SIGTERM:\n" + string.Join('\n', alive));
        }
        finally
        {
            run.KillTree();
            foreach (var pid in pids.Where(ProcessTree.IsAlive))
            {
                ProcessTree.Kill(pid);
            }
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task DotnetRun_GatewayPortTaken_ExitsWithAMessageNamingTheOption()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        using var run = AppHostProcess.Start(["--gateway-port", port.ToString(CultureInfo.InvariantCulture)]);

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(60), Ct), "the AppHost kept running on a taken port:\n" + run.Tail());
        Assert.Equal(2, run.Process.ExitCode);
        Assert.Contains($"Port {port} (the Gateway) is already in use", run.Output, StringComparison.Ordinal);
        Assert.Contains("--gateway-port", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DotnetRun_BadWorkers_ExitsWithAMessage()
    {
        using var run = AppHostProcess.Start(["--workers", "0"]);

        Assert.True(await run.WaitForExitAsync(TimeSpan.FromSeconds(60), Ct), "the AppHost kept running:\n" + run.Tail());
        Assert.Equal(2, run.Process.ExitCode);
        Assert.Contains("--workers must be a whole number from 1 to 16, not '0'", run.Output, StringComparison.Ordinal);
    }

    private static async Task WaitForOutputAsync(AppHostProcess run, string text, TimeSpan bound)
    {
        var deadline = Stopwatch.StartNew();
        while (!run.Output.Contains(text, StringComparison.Ordinal))
        {
            Assert.False(run.Process.HasExited, "the AppHost exited:\n" + run.Tail());
            Assert.True(deadline.Elapsed < bound, $"'{text}' not printed within {bound.TotalSeconds} s:\n{run.Tail()}");
            await Task.Delay(250, Ct);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex(@"http://localhost:\d+/login\?t=[0-9a-f]+")]
    private static partial Regex LoginUrl();
}
