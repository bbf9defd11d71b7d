using System.Xml.Linq;

namespace TorrentEdge.AppHost.Tests.Deploy;

/// <summary>The runtime settings chosen by measurement (docs/footprint.md, issue 22) reach every service in its image and its pods.</summary>
public sealed class FootprintTests
{
    /// <summary>glibc reads MALLOC_ARENA_MAX at process start only, so the image and the pod environment must carry it.</summary>
    private const string ArenaVariable = "MALLOC_ARENA_MAX";
    private const string ArenaCap = "2";

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public async Task MallocArenaMax_EachDeclaredService_TwoInItsImageAndItsPods(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        foreach (var declared in await AppHostDeclaration.DeclaredServicesAsync())
        {
            Assert.True(ImageEnvironment(declared.Name).TryGetValue(ArenaVariable, out var inImage),
                $"{declared.Name}: its project publishes no {ArenaVariable} (ContainerEnvironmentVariable)");
            Assert.Equal(ArenaCap, inImage);

            var environment = rendering.Environment(rendering.Container(declared.Name));
            Assert.True(environment.TryGetValue(ArenaVariable, out var inPod), $"{kustomization}: {declared.Name} runs without {ArenaVariable}");
            Assert.Equal(ArenaCap, inPod.Value);
        }
    }

    /// <summary>The <c>ContainerEnvironmentVariable</c> items of a service's project file: the image's environment.</summary>
    private static Dictionary<string, string> ImageEnvironment(string service)
    {
        var projectDirectory = Directory.GetDirectories(Path.Combine(RepositoryRoot.Find(), "src"))
            .Single(d => string.Equals(Path.GetFileName(d), service, StringComparison.OrdinalIgnoreCase));
        var project = XDocument.Load(Path.Combine(projectDirectory, Path.GetFileName(projectDirectory) + ".csproj"));
        return project.Descendants("ContainerEnvironmentVariable")
            .ToDictionary(e => (string)e.Attribute("Include")!, e => (string)e.Attribute("Value")!, StringComparer.Ordinal);
    }
}
