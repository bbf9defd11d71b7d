using System.Reflection;

namespace TorrentEdge.AppHost.Hosting;

/// <summary>Finds the repository and each service's build output, relative to where the AppHost itself runs from.</summary>
public sealed class RepositoryLayout(string root, string configuration)
{
    public const string SolutionFile = "TorrentEdge.sln";

    public string Root { get; } = root;

    public string Configuration { get; } = configuration;

    /// <summary>Walks up from the AppHost's own directory (then the current one) to the folder holding the solution.</summary>
    public static RepositoryLayout Locate(string? configuration = null)
    {
        configuration ??= typeof(RepositoryLayout).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, SolutionFile)))
                {
                    return new RepositoryLayout(dir.FullName, configuration);
                }
            }
        }
        throw new InvalidOperationException($"Could not find {SolutionFile} above {AppContext.BaseDirectory}: run the AppHost from the repository.");
    }

    public string ProjectDirectory(ServiceSpec service) => Path.Combine(Root, "src", service.Project);

    public string AssemblyPath(ServiceSpec service) =>
        Path.Combine(ProjectDirectory(service), "bin", Configuration, "net10.0", service.AssemblyName + ".dll");
}
