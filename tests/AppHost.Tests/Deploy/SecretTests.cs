using k8s.Models;

namespace TorrentEdge.AppHost.Tests.Deploy;

/// <summary>Secrets are referenced, never committed: prod names an existing Secret, dev generates one with dev-only values.</summary>
public sealed class SecretTests
{
    private const string SecretName = "torrentedge-secrets";

    /// <summary>Settings that carry credentials or keys: they may only come from a Secret.</summary>
    private static bool IsSecret(string name) =>
        name is "ConnectionStrings__catalogdb" or "ConnectionStrings__redis" or "Auth__SigningKey" or "PeerWorker__CatalogClientSecret"
        || name.StartsWith("Auth__ServiceClients__", StringComparison.Ordinal);

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public async Task Environment_SecretSettings_OnlyFromSecretKeyRefs(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        var secretSettings = 0;
        foreach (var service in await AppHostDeclaration.DeclaredServicesAsync())
        {
            foreach (var (name, variable) in rendering.Environment(rendering.Container(service.Name)).Where(e => IsSecret(e.Key)))
            {
                Assert.True(variable.Value is null && variable.ValueFrom?.SecretKeyRef is not null, $"{kustomization}: {service.Name}'s {name} is not from a Secret");
                secretSettings++;
            }
        }
        // catalogdb, redis x3, the signing key, the service client secret on both sides.
        Assert.True(secretSettings >= 7, $"only {secretSettings} secret settings found");
    }

    [Fact]
    public void Catalog_SigningKey_FromTheSecretWherePeopleLogIn()
    {
        // Outside Development Catalog refuses to start without it; every replica must sign with the same key.
        var reference = Rendering.Of("overlays/prod").Container("catalog").Env.Single(e => e.Name == "Auth__SigningKey").ValueFrom.SecretKeyRef;

        Assert.Equal(SecretName, reference.Name);
        Assert.NotEqual(true, reference.Optional);
    }

    [Fact]
    public void Prod_Secret_ReferencedByNameAndNeverRendered()
    {
        var rendering = Rendering.Of("overlays/prod");

        Assert.Empty(rendering.OfType<V1Secret>());
        var references = SecretReferences(rendering).ToList();
        Assert.NotEmpty(references);
        Assert.All(references, r => Assert.Equal(SecretName, r.Name));
    }

    [Fact]
    public void Prod_SecretExample_ListsEveryKeyTheManifestsRead()
    {
        var example = File.ReadAllLines(Path.Combine(Rendering.DeployDirectory, "overlays", "prod", "secret.example.env"));
        var keys = example.Where(l => !l.StartsWith('#') && l.Contains('=')).Select(l => l[..l.IndexOf('=')])
            .Concat(example.SelectMany(l => System.Text.RegularExpressions.Regex.Matches(l, @"--from-file=([a-z0-9-]+)=").Select(m => m.Groups[1].Value)))
            .ToHashSet();

        Assert.All(SecretReferences(Rendering.Of("overlays/prod")), r => Assert.Contains(r.Key, keys));
    }

    [Fact]
    public void Dev_Secret_GeneratedWithEveryRequiredKeyAndMarkedDevOnly()
    {
        var rendering = Rendering.Of("overlays/dev");

        var secret = Assert.Single(rendering.OfType<V1Secret>());
        Assert.StartsWith(SecretName + "-", secret.Metadata.Name, StringComparison.Ordinal);
        Assert.All(SecretReferences(rendering), r =>
        {
            Assert.Equal(secret.Metadata.Name, r.Name);
            Assert.True(r.Optional == true || secret.Data.ContainsKey(r.Key), $"the dev Secret has no {r.Key}");
        });
        var generator = File.ReadAllText(Path.Combine(Rendering.DeployDirectory, "overlays", "dev", "kustomization.yaml"));
        Assert.Contains("DEV ONLY", generator, StringComparison.Ordinal);
    }

    [Fact]
    public void DeployFolder_Files_HoldNoSecretAndGenerateOneOnlyForDev()
    {
        var files = Directory.GetFiles(Rendering.DeployDirectory, "*.yaml", SearchOption.AllDirectories);

        Assert.NotEmpty(files);
        Assert.All(files, f => Assert.DoesNotMatch(@"(?m)^kind:\s*Secret\s*$", File.ReadAllText(f)));
        Assert.Equal(
            [Path.Combine(Rendering.DeployDirectory, "overlays", "dev", "kustomization.yaml")],
            files.Where(f => System.Text.RegularExpressions.Regex.IsMatch(File.ReadAllText(f), @"(?m)^secretGenerator:")));
    }

    private static IEnumerable<V1SecretKeySelector> SecretReferences(Rendering rendering) =>
        rendering.OfType<V1Deployment>()
            .SelectMany(d => d.Spec.Template.Spec.Containers)
            .SelectMany(c => c.Env ?? [])
            .Select(e => e.ValueFrom?.SecretKeyRef)
            .OfType<V1SecretKeySelector>();
}
