using TorrentEdge.Engine.InteropTests.Support;

namespace TorrentEdge.Engine.InteropTests.LocalDiscovery;

/// <summary>
/// Local service discovery (BEP 14) for real: multicast on 239.192.152.143:6771 over a veth pair between two network
/// namespaces this test makes (and deletes), so no datagram reaches the machine's own network. Each side is a separate
/// process run with <c>ip netns exec</c>: our CLI, or libtorrent 2.0.8 with <c>enable_lsd</c>. No tracker answers (the
/// torrents name 127.0.0.1:1, unreachable inside the namespaces) and no peer is given: discovery is the only way to meet.
/// </summary>
public sealed class LocalDiscoveryNamespaceTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(90);

    private static void SkipUnlessNamespaces()
    {
        if (NetworkNamespacePair.Unavailable is { } why) Assert.Skip("no network namespaces here: " + why);
    }

    private static ExternalProcess CliIn(string ns, params string[] args) =>
        NetworkNamespacePair.Exec(ns, "dotnet", [EngineCli.DllPath, .. args]);

    private static ExternalProcess Libtorrent(string ns, params string[] args) =>
        NetworkNamespacePair.Exec(ns, LibtorrentPeer.Python, [LibtorrentPeer.ScriptPath, .. args]);

    [Fact]
    public async Task Cli_SeederAndLeecherInTwoNamespaces_FindEachOtherAndDownloadByteForByte()
    {
        SkipUnlessNamespaces();
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory("te-lsd");
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 141, 15, ct);
        var target = dir.CreateSubdirectory("leech");
        using var net = NetworkNamespacePair.Create();

        // The leecher first: the seeder's announce when its torrent starts is what it hears.
        await using var leecher = CliIn(net.B, "download", torrent, "--out", target, "--bind", NetworkNamespacePair.AddressB.ToString(), "--port", "7102",
            "--lsd", "--no-dht", "--timeout", "80");
        await leecher.WaitForLineAsync(l => l.StartsWith("local discovery on 239.192.152.143:6771", StringComparison.Ordinal), Bound, ct);
        await using var seeder = CliIn(net.A, "seed", torrent, payload.Root, "--bind", NetworkNamespacePair.AddressA.ToString(), "--port", "7101",
            "--lsd", "--no-dht", "--timeout", "80");

        Assert.True(0 == await leecher.WaitForExitAsync(Bound, ct), leecher.Tail() + "\nseeder:\n" + seeder.Tail());
        payload.AssertSameAs(target);
    }

    [Fact]
    public async Task Cli_PrivateTorrentInTwoNamespaces_NeverMeet()
    {
        SkipUnlessNamespaces();
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory("te-lsd");
        var payload = TestPayload.MultiFileOddSizes(dir.CreateSubdirectory("seed"), 142);
        var torrent = dir.Combine("private.torrent");
        await TorrentEdge.Engine.Cli.CliApp.RunAsync(["create", payload.ContentPath, "--tracker", "http://127.0.0.1:1/announce", "--private", "--out", torrent],
            TextWriter.Null, TextWriter.Null);
        var target = dir.CreateSubdirectory("leech");
        using var net = NetworkNamespacePair.Create();

        await using var leecher = CliIn(net.B, "download", torrent, "--out", target, "--bind", NetworkNamespacePair.AddressB.ToString(), "--port", "7102",
            "--lsd", "--no-dht", "--timeout", "8");
        await leecher.WaitForLineAsync(l => l.StartsWith("local discovery on", StringComparison.Ordinal), Bound, ct);
        await using var seeder = CliIn(net.A, "seed", torrent, payload.Root, "--bind", NetworkNamespacePair.AddressA.ToString(), "--port", "7101",
            "--lsd", "--no-dht", "--timeout", "30");

        Assert.Equal(3, await leecher.WaitForExitAsync(Bound, ct)); // timed out with nothing
        Assert.DoesNotContain("peers 1", leecher.Log);
        Assert.DoesNotContain("peers 1", seeder.Log);
    }

    [Fact]
    public async Task Libtorrent_LeecherInTheOtherNamespace_FindsOurSeederByLsdAndDownloadsByteForByte()
    {
        SkipUnlessNamespaces();
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory("te-lsd");
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 143, 15, ct);
        var target = dir.CreateSubdirectory("leech");
        using var net = NetworkNamespacePair.Create();

        await using var lt = Libtorrent(net.B, "--mode", "download", "--torrent", torrent, "--save", target, "--address", NetworkNamespacePair.AddressB.ToString(),
            "--port", "7112", "--lsd", "--max-seconds", "80");
        await lt.WaitForLineAsync(l => l.Contains("\"listening\"", StringComparison.Ordinal), Bound, ct);
        await using var seeder = CliIn(net.A, "seed", torrent, payload.Root, "--bind", NetworkNamespacePair.AddressA.ToString(), "--port", "7111",
            "--lsd", "--no-dht", "--timeout", "80");

        await lt.WaitForLineAsync(l => l.Contains("\"finished\"", StringComparison.Ordinal), Bound, ct);
        payload.AssertSameAs(target);
        // Connected to our seeder: it dialled our port, learnt only from our announce, or we dialled it, learnt only from its.
        Assert.Contains($"peer [ {NetworkNamespacePair.AddressA}:", lt.Log);
    }

    [Fact]
    public async Task Cli_LeecherInTheOtherNamespace_FindsALibtorrentSeederByLsdAndDownloadsByteForByte()
    {
        SkipUnlessNamespaces();
        if (!LibtorrentPeer.IsAvailable) Assert.Skip("python3-libtorrent is not installed for /usr/bin/python3");
        var ct = TestContext.Current.CancellationToken;
        using var dir = new TempDirectory("te-lsd");
        var (payload, torrent) = await LoopbackEngine.MultiFileTorrentAsync(dir, 144, 15, ct);
        var target = dir.CreateSubdirectory("leech");
        using var net = NetworkNamespacePair.Create();

        // libtorrent announces every 5 s here (lt_peer.py --lsd-interval), so the order does not matter.
        await using var lt = Libtorrent(net.A, "--mode", "seed", "--torrent", torrent, "--save", payload.Root, "--address", NetworkNamespacePair.AddressA.ToString(),
            "--port", "7121", "--lsd", "--max-seconds", "80");
        await using var leecher = CliIn(net.B, "download", torrent, "--out", target, "--bind", NetworkNamespacePair.AddressB.ToString(), "--port", "7122",
            "--lsd", "--no-dht", "--timeout", "80");

        Assert.True(0 == await leecher.WaitForExitAsync(Bound, ct), leecher.Tail() + "\nlibtorrent:\n" + lt.Tail());
        payload.AssertSameAs(target);
    }
}
