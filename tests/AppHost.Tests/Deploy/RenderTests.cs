namespace TorrentEdge.AppHost.Tests.Deploy;

/// <summary>Every kustomization under deploy/ renders with the real kubectl into objects KubernetesClient knows.</summary>
public sealed class RenderTests
{
    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public void Kustomize_EachKustomization_RendersIntoTypedObjects(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);

        Assert.NotEmpty(rendering.Objects);
        Assert.All(rendering.Objects, o => Assert.IsAssignableFrom<k8s.IKubernetesObject<k8s.Models.V1ObjectMeta>>(o));
    }

    [Fact]
    public void Kustomize_OverlaysFolder_EveryOverlayIsRenderedByTheTests()
    {
        var overlays = Directory.GetDirectories(Path.Combine(Rendering.DeployDirectory, "overlays"))
            .Select(d => "overlays/" + Path.GetFileName(d))
            .Order()
            .ToList();

        Assert.Equal(["overlays/dev", "overlays/prod"], overlays);
        Assert.All(overlays, o => Assert.Contains(o, Rendering.All.Select(row => row.Data)));
        Assert.Contains("base", Rendering.All.Select(row => row.Data));
    }

    [Fact]
    public void Parse_MisspeltField_FailsRatherThanIgnoringIt()
    {
        // The tests rely on strict parsing to catch a manifest field kubectl would reject or ignore.
        const string yaml = "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\nspec:\n  selectr: {}\n";

        Assert.ThrowsAny<Exception>(() => Rendering.Parse(yaml));
    }
}
