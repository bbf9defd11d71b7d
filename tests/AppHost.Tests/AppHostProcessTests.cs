using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using Confluent.Kafka;
using TorrentEdge.AppHost.Hosting;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.AppHost.Tests;

/// <summary>Runs the real AppHost (its build output) with the real services, as a person would.</summary>
public sealed class AppHostProcessTests
{
    private static readonly TimeSpan StartBound = TimeSpan.FromSeconds(180);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Help_PrintsTheOptions()
    {
        using var run = AppHostProcess.Start(["--help"]);

        var exited = await run.WaitForExitAsync(TimeSpan.FromSeconds(60), Ct);

        Assert.True(exited, "the AppHost did not exit after --help");
        Assert.Equal(0, run.Process.ExitCode);
        Assert.Contains("--gateway-port", run.Output, StringComparison.Ordinal);
        Assert.Contains("--workers", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AppHost_Suite_StartsHealthyRestartsAKilledChildAndLeavesNoProcessAfterCtrlC()
    {
        var dataDir = Directory.CreateTempSubdirectory("torrentedge-apphost-").FullName;
        var gatewayPort = FreePort();
        var seenPids = new HashSet<int>();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var run = AppHostProcess.Start(["--data-dir", dataDir, "--gateway-port", gatewayPort.ToString(CultureInfo.InvariantCulture), "--workers", "2"]);
        var statePath = Path.Combine(dataDir, SuiteState.FileName);
        try
        {
            // 1. The suite starts and every service reports healthy.
            var state = await WaitForStateAsync(statePath, s => s.Ready && Services(s).All(r => r.State == "healthy"), StartBound, run);
            Remember(state, seenPids);
            Assert.Equal(
                ["gateway", "catalog", "analytics", "notifier", "peerworker-0", "peerworker-1"],
                Services(state).Select(r => r.Name));
            Assert.Equal($"http://127.0.0.1:{gatewayPort}", state.Resources[0].Url);
            foreach (var service in Services(state))
            {
                using var health = await http.GetAsync(new Uri(new Uri(service.Url!), "/health"), Ct);
                Assert.True(health.StatusCode == HttpStatusCode.OK, $"{service.Name} /health answered {(int)health.StatusCode}");
            }
            AssertTableListsGatewayFirst(run.Output);
            AssertKafkaTopics(state);
            using (var page = await http.GetAsync(new Uri(state.Resources[0].Url!), Ct))
            {
                // The Gateway serves its web UI from src/Gateway/wwwroot: it runs from its project folder.
                Assert.Equal(HttpStatusCode.OK, page.StatusCode);
                Assert.Contains("TorrentEdge", await page.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
            }

            // 2. A killed child is restarted under a new pid and becomes healthy again.
            var victim = Services(state).Single(r => r.Name == "peerworker-1");
            using (var process = Process.GetProcessById(victim.Pid!.Value))
            {
                process.Kill();
            }
            state = await WaitForStateAsync(statePath, s =>
                s.Resources.Single(r => r.Name == victim.Name) is { State: "healthy" } r && r.Pid != victim.Pid, TimeSpan.FromSeconds(120), run);
            Remember(state, seenPids);
            var restarted = state.Resources.Single(r => r.Name == victim.Name);
            Assert.True(restarted.Restarts >= 1);
            using (var health = await http.GetAsync(new Uri(new Uri(restarted.Url!), "/health"), Ct))
            {
                Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            }

            // 3. Ctrl+C (SIGINT) stops everything: the AppHost exits and no recorded pid is left.
            // On a loaded 2-core machine a signal can sit unnoticed for a while; a person would press Ctrl+C again.
            var exited = false;
            for (var attempt = 0; attempt < 3 && !exited; attempt++)
            {
                Signal(run.Process.Id, "INT");
                exited = await run.WaitForExitAsync(TimeSpan.FromSeconds(40), Ct);
            }
            Assert.True(exited, "the AppHost did not exit within 120 s of SIGINT\n" + run.Output);
            Assert.Equal(0, run.Process.ExitCode);
            var leftovers = seenPids.Where(IsAlive).ToList();
            Assert.True(leftovers.Count == 0, "still running after Ctrl+C: " + string.Join(", ", leftovers));
            Assert.Contains("Stopped.", run.Output, StringComparison.Ordinal);
        }
        finally
        {
            run.KillTree();
            foreach (var pid in seenPids.Where(IsAlive))
            {
                try
                {
                    using var process = Process.GetProcessById(pid);
                    process.Kill(entireProcessTree: true);
                }
                catch (ArgumentException)
                {
                }
            }
            try
            {
                Directory.Delete(dataDir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static IEnumerable<ResourceState> Services(SuiteState state) => state.Resources.Where(r => r.Kind == "service");

    private static void Remember(SuiteState state, HashSet<int> pids)
    {
        foreach (var resource in state.Resources.Where(r => r.Pid is not null && r.Kind != "kafka"))
        {
            pids.Add(resource.Pid!.Value);
        }
    }

    /// <summary>The embedded Kafka runs and serves the topology's topics with their partition counts to another process.</summary>
    private static void AssertKafkaTopics(SuiteState state)
    {
        var kafka = state.Resources.Single(r => r.Name == "kafka");
        Assert.Equal("running", kafka.State);
        Assert.False(string.IsNullOrEmpty(kafka.Url));
        KafkaNativeLibrary.EnsureLoaded();
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = kafka.Url }).Build();
        var metadata = admin.GetMetadata(TimeSpan.FromSeconds(20));
        foreach (var topic in Topology.Topics)
        {
            var found = metadata.Topics.SingleOrDefault(t => t.Topic == topic.Name);
            Assert.True(found is not null, $"topic {topic.Name} is missing");
            Assert.Equal(topic.Partitions, found.Partitions.Count);
        }
    }

    private static void AssertTableListsGatewayFirst(string output)
    {
        var lines = output.Split('\n');
        var header = Array.FindIndex(lines, l => l.TrimStart().StartsWith("Resource", StringComparison.Ordinal));
        Assert.True(header >= 0, "no resource table in the output");
        Assert.StartsWith("gateway", lines[header + 1].TrimStart(), StringComparison.Ordinal);
    }

    private static async Task<SuiteState> WaitForStateAsync(string path, Func<SuiteState, bool> condition, TimeSpan bound, AppHostProcess run)
    {
        var deadline = DateTime.UtcNow + bound;
        SuiteState? last = null;
        while (DateTime.UtcNow < deadline)
        {
            Assert.False(run.Process.HasExited, "the AppHost exited early:\n" + run.Output);
            last = SuiteState.Read(path);
            if (last is not null && condition(last))
            {
                return last;
            }
            await Task.Delay(500, Ct);
        }
        Assert.Fail($"state not reached within {bound.TotalSeconds} s; last state: {string.Join(", ", last?.Resources.Select(r => $"{r.Name}={r.State}/{r.Pid}") ?? [])}\n{run.Output}");
        return null!;
    }

    /// <summary>A process is gone when /proc has no entry for it, or only a zombie's.</summary>
    private static bool IsAlive(int pid)
    {
        var stat = $"/proc/{pid}/stat";
        try
        {
            var text = File.ReadAllText(stat);
            var state = text[(text.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state != "Z" && state != "X";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit(10_000);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
