using System.Diagnostics;
using System.Text.RegularExpressions;

namespace TorrentEdge.AppHost.Tests.Deploy;

/// <summary>The real <c>kubectl</c>, for <c>kubectl kustomize</c>: no cluster is needed to render.</summary>
internal static partial class Kubectl
{
    /// <summary>Oldest kustomize inside kubectl that renders deploy/ (<c>labels</c>, <c>patches</c>, generator options).</summary>
    private const int MinimumKustomizeMajor = 5;

    private static readonly Lazy<string> Executable = new(Find);

    /// <summary>Renders one kustomization folder and returns the YAML stream; fails the test with kubectl's own error.</summary>
    public static string Kustomize(string directory)
    {
        var (exitCode, output, error) = Run(Executable.Value, "kustomize", directory);
        if (exitCode != 0)
        {
            Assert.Fail($"kubectl kustomize {directory} exited {exitCode}:\n{error}");
        }
        return output;
    }

    /// <summary>
    /// KUBECTL, then PATH, then .tools/kubectl/kubectl (where scripts/test.sh puts one); the first whose kustomize is
    /// recent enough. Absent or too old is a failure that says what to install, never a skip.
    /// </summary>
    private static string Find()
    {
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("KUBECTL") is { Length: > 0 } configured)
        {
            candidates.Add(configured);
        }
        candidates.AddRange((Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "kubectl")));
        candidates.Add(Path.Combine(RepositoryRoot.Find(), ".tools", "kubectl", "kubectl"));

        var found = new List<string>();
        foreach (var candidate in candidates.Where(File.Exists).Distinct())
        {
            var (exitCode, output, _) = Run(candidate, "version", "--client");
            var match = KustomizeVersion().Match(output);
            if (exitCode == 0 && match.Success && int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) >= MinimumKustomizeMajor)
            {
                return candidate;
            }
            found.Add($"{candidate}: {output.ReplaceLineEndings(" ").Trim()}");
        }
        Assert.Fail(
            $"No kubectl with kustomize v{MinimumKustomizeMajor} or later (kubectl 1.27+) was found"
            + (found.Count == 0 ? " (none on KUBECTL, PATH or .tools/kubectl/kubectl)" : "; found only: " + string.Join("; ", found))
            + ". The deploy/ tests render the manifests with `kubectl kustomize`. Debian 12's own package, kubernetes-client, is"
            + " kubectl 1.20.2 with kustomize v2.0.3, which cannot render them. scripts/test.sh puts kubectl 1.32 under"
            + " .tools/ when none is usable (docs/DEPLOY.md, \"kubectl for the tests\"); or install kubectl 1.27+ and set KUBECTL.");
        return null!;
    }

    private static (int ExitCode, string Output, string Error) Run(string executable, params string[] arguments)
    {
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{executable} did not start");
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromSeconds(60)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{executable} {string.Join(' ', arguments)} did not finish within 60 s");
        }
        return (process.ExitCode, output, error.GetAwaiter().GetResult());
    }

    [GeneratedRegex(@"Kustomize Version: v(\d+)\.")]
    private static partial Regex KustomizeVersion();
}
