using System.Diagnostics;
using System.Net;

namespace TorrentEdge.Engine.InteropTests.Support;

/// <summary>
/// Two network namespaces made for one test and joined by a veth pair (10.77.0.1/24 in <see cref="A"/>, 10.77.0.2/24 in
/// <see cref="B"/>), so that multicast (local service discovery) has a link of its own and never reaches the machine's
/// network. Programs run inside with <c>ip netns exec</c>; disposing deletes both namespaces (and with them the veth pair).
/// </summary>
public sealed class NetworkNamespacePair : IDisposable
{
    public static readonly IPAddress AddressA = IPAddress.Parse("10.77.0.1");
    public static readonly IPAddress AddressB = IPAddress.Parse("10.77.0.2");

    private NetworkNamespacePair(string a, string b)
    {
        A = a;
        B = b;
    }

    public string A { get; }

    public string B { get; }

    /// <summary>Null when namespaces can be made here (iproute2 present and we are root), else why not.</summary>
    public static string? Unavailable { get; } = Probe();

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces are Linux only";
        if (Environment.UserName != "root") return "ip netns add needs root";
        try
        {
            var (code, output) = Ip("netns", "list");
            return code == 0 ? null : "ip netns list failed: " + output;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return "iproute2's ip is not installed: " + e.Message;
        }
    }

    /// <summary>Makes the pair; anything made before a failing step is removed again.</summary>
    public static NetworkNamespacePair Create()
    {
        // Names unique per test run, so parallel or left-over namespaces never collide; interface names fit 15 characters.
        var id = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(4));
        var pair = new NetworkNamespacePair($"te-lsd-{id}-a", $"te-lsd-{id}-b");
        try
        {
            Must("netns", "add", pair.A);
            Must("netns", "add", pair.B);
            Must("link", "add", $"tl{id}a", "type", "veth", "peer", "name", $"tl{id}b");
            Must("link", "set", $"tl{id}a", "netns", pair.A);
            Must("link", "set", $"tl{id}b", "netns", pair.B);
            Must("-n", pair.A, "addr", "add", AddressA + "/24", "dev", $"tl{id}a");
            Must("-n", pair.B, "addr", "add", AddressB + "/24", "dev", $"tl{id}b");
            foreach (var (ns, dev) in new[] { (pair.A, $"tl{id}a"), (pair.B, $"tl{id}b") })
            {
                Must("-n", ns, "link", "set", "lo", "up");
                Must("-n", ns, "link", "set", dev, "up");
            }
            return pair;
        }
        catch
        {
            pair.Dispose();
            // A veth left in our own namespace if moving it failed.
            Ip("link", "del", $"tl{id}a");
            throw;
        }
    }

    /// <summary>Starts <paramref name="fileName"/> inside namespace <paramref name="ns"/> (ip netns exec execs it: the pid is the program's).</summary>
    public static ExternalProcess Exec(string ns, string fileName, params string[] arguments) =>
        ExternalProcess.Start("ip", ["netns", "exec", ns, fileName, .. arguments]);

    public void Dispose()
    {
        Ip("netns", "del", A);
        Ip("netns", "del", B);
    }

    private static void Must(params string[] arguments)
    {
        var (code, output) = Ip(arguments);
        if (code != 0) throw new InvalidOperationException($"ip {string.Join(' ', arguments)} failed ({code}): {output}");
    }

    private static (int Code, string Output) Ip(params string[] arguments)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments) psi.ArgumentList.Add(a);
        using var process = Process.Start(psi)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        if (!process.WaitForExit(10_000))
        {
            process.Kill();
            return (-1, "timed out");
        }
        return (process.ExitCode, output.Trim());
    }
}
