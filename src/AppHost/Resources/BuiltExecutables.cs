using System.Reflection;
using System.Runtime.InteropServices;

namespace TorrentEdge.AppHost.Resources;

/// <summary>
/// Runs each service's built executable instead of <c>dotnet run</c>. DCP starts a project resource as
/// <c>dotnet run --no-build</c>: per instance that is an MSBuild evaluation of about 2 CPU-seconds and a wrapper process
/// of about 140 MiB that lives as long as the service, which on 2 cores is seconds of start-up and most of the suite's
/// memory. The AppHost's build records where each referenced service's executable is (AppHost.csproj,
/// <c>RecordServiceExecutables</c>); a <see cref="ExecutableAnnotation"/> on a project resource makes DCP start that
/// command with the project's arguments, environment, endpoints and replicas, still shown as a project.
/// </summary>
public static class BuiltExecutables
{
    private const string Prefix = "TorrentEdge.ServiceExecutable:";

    private static readonly Dictionary<string, string> Recorded = typeof(BuiltExecutables).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Where(a => a.Key.StartsWith(Prefix, StringComparison.Ordinal) && !string.IsNullOrEmpty(a.Value))
        .ToDictionary(a => Path.GetFullPath(a.Key[Prefix.Length..]), a => a.Value!, StringComparer.Ordinal);

    /// <summary>The built executable of a project, or null when this AppHost's build did not record one or it is missing.</summary>
    public static string? For(string projectPath) =>
        Recorded.TryGetValue(Path.GetFullPath(projectPath), out var path) && File.Exists(path) ? path : null;

    /// <summary>
    /// In run mode, starts the project's built executable directly (falling back to <c>dotnet run</c> when it was not
    /// built). The executable finds the runtime the AppHost runs on through <c>DOTNET_ROOT</c>.
    /// </summary>
    public static IResourceBuilder<ProjectResource> RunBuiltExecutable(this IResourceBuilder<ProjectResource> project)
    {
        if (!project.ApplicationBuilder.ExecutionContext.IsRunMode) return project;
        var projectPath = project.Resource.GetProjectMetadata().ProjectPath;
        if (For(projectPath) is not { } executable) return project;
        project.WithAnnotation(new ExecutableAnnotation
        {
            Command = executable,
            // As dotnet run does: the project folder is the content root.
            WorkingDirectory = Path.GetDirectoryName(projectPath)!,
        }, ResourceAnnotationMutationBehavior.Replace);
        return Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 }
            ? project
            : project.WithEnvironment("DOTNET_ROOT", DotnetRoot());
    }

    // .../dotnet/shared/Microsoft.NETCore.App/10.0.x/ -> .../dotnet
    private static string DotnetRoot() =>
        Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
}
