using System.Text.RegularExpressions;
using System.Xml.Linq;
using k8s.Models;

namespace TorrentEdge.AppHost.Tests.Deploy;

/// <summary>Each declared service runs as the AppHost declares it: names, replicas, ports, environment, probes, images.</summary>
public sealed partial class WorkloadTests
{
    private const int HttpPort = 8080;

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public async Task Deployments_EachRendering_ExactlyTheDeclaredServicesWithTheirReplicas(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        var declared = await AppHostDeclaration.DeclaredServicesAsync();

        Assert.Equal(
            declared.Select(s => s.Name).Order(),
            rendering.OfType<V1Deployment>().Select(d => d.Metadata.Name).Order());
        Assert.All(declared, s => Assert.True(
            rendering.Deployment(s.Name).Spec.Replicas == s.Replicas,
            $"{kustomization}: {s.Name} has {rendering.Deployment(s.Name).Spec.Replicas} replicas, the AppHost {s.Replicas}"));
        Assert.Equal(2, rendering.Deployment("peerworker").Spec.Replicas);
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public async Task Services_EachDeclaredService_HttpOn8080SelectingItsPods(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        foreach (var declared in await AppHostDeclaration.DeclaredServicesAsync())
        {
            var deployment = rendering.Deployment(declared.Name);
            var podLabels = deployment.Spec.Template.Metadata.Labels;
            Assert.True(NetworkPolicyModel.Matches(deployment.Spec.Selector, podLabels), $"{declared.Name}: the selector misses its own pods");

            var containerPort = Assert.Single(rendering.Container(declared.Name).Ports, p => p.Name == "http");
            Assert.Equal(HttpPort, containerPort.ContainerPort);

            var service = rendering.Service(declared.Name);
            Assert.All(service.Spec.Selector, label => Assert.Equal(label.Value, podLabels[label.Key]));
            var servicePort = Assert.Single(service.Spec.Ports, p => p.Name == "http");
            Assert.Equal(HttpPort, servicePort.Port);
            Assert.Equal("http", servicePort.TargetPort.Value);
        }
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public async Task Environment_EachService_CarriesEveryDeclaredSetting(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        foreach (var declared in await AppHostDeclaration.DeclaredServicesAsync())
        {
            var environment = rendering.Environment(rendering.Container(declared.Name));
            var missing = declared.EnvironmentNames.Where(MustBeDeployed).Where(n => !environment.ContainsKey(n)).ToList();

            Assert.True(missing.Count == 0, $"{kustomization}: {declared.Name} lacks {string.Join(", ", missing)}");
        }
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public async Task Environment_ConnectionStringsAndDiscovery_NoneBeyondTheDeclaration(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        foreach (var declared in await AppHostDeclaration.DeclaredServicesAsync())
        {
            var environment = rendering.Environment(rendering.Container(declared.Name));

            Assert.Equal(
                declared.EnvironmentNames.Where(IsWiring).Order(),
                environment.Keys.Where(IsWiring).Order());
        }
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public async Task ServiceDiscovery_EachReference_PointsAtThatServicesHttpPort(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        foreach (var declared in await AppHostDeclaration.DeclaredServicesAsync())
        {
            var environment = rendering.Environment(rendering.Container(declared.Name));
            Assert.All(declared.References, reference =>
            {
                var port = Assert.Single(rendering.Service(reference).Spec.Ports, p => p.Name == "http").Port;
                Assert.Equal($"http://{reference}:{port}", environment[$"services__{reference}__http__0"].Value);
            });
        }
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public async Task Probes_EachContainer_AliveForLivenessAndStartupHealthForReadiness(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        foreach (var declared in await AppHostDeclaration.DeclaredServicesAsync())
        {
            var container = rendering.Container(declared.Name);
            AssertHttpProbe(container.LivenessProbe, "/alive", declared.Name);
            AssertHttpProbe(container.StartupProbe, "/alive", declared.Name);
            AssertHttpProbe(container.ReadinessProbe, "/health", declared.Name);
        }
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public void Resources_EachContainer_CpuAndMemoryRequestedAndLimited(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        var containers = rendering.OfType<V1Deployment>().SelectMany(d => d.Spec.Template.Spec.Containers).ToList();

        Assert.NotEmpty(containers);
        Assert.All(containers, container =>
        {
            foreach (var resource in new[] { "cpu", "memory" })
            {
                Assert.True(container.Resources?.Requests?.ContainsKey(resource) == true, $"{container.Name}: no {resource} request");
                Assert.True(container.Resources.Limits?.ContainsKey(resource) == true, $"{container.Name}: no {resource} limit");
                Assert.True(container.Resources.Requests[resource].ToDecimal() <= container.Resources.Limits[resource].ToDecimal(),
                    $"{container.Name}: {resource} request above its limit");
            }
        });
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public async Task Images_EachService_TheProjectsContainerRepositoryRunAsItsNonRootUser(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        foreach (var declared in await AppHostDeclaration.DeclaredServicesAsync())
        {
            var project = ContainerSettings.Of(declared.Name);
            var container = rendering.Container(declared.Name);
            var repository = ImageRepository().Match(container.Image).Groups["repository"].Value;

            Assert.True(repository == project.Repository || repository.EndsWith("/" + project.Repository, StringComparison.Ordinal),
                $"{kustomization}: {declared.Name} runs {container.Image}, its project publishes {project.Repository}");
            Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:", project.BaseImage, StringComparison.Ordinal);
            Assert.Equal("app", project.User);
            // Every port the manifest opens is one the image declares.
            Assert.All(container.Ports, p => Assert.Contains((p.ContainerPort, (p.Protocol ?? "TCP").ToLowerInvariant()), project.Ports));

            var pod = rendering.Deployment(declared.Name).Spec.Template.Spec.SecurityContext;
            Assert.True(pod?.RunAsNonRoot == true, $"{declared.Name}: runAsNonRoot is not set");
            // The base images' `app` user: a numeric id, since the kubelet cannot check a user name against runAsNonRoot.
            Assert.Equal(ContainerSettings.AppUserId, pod.RunAsUser);
            Assert.False(container.SecurityContext?.AllowPrivilegeEscalation ?? true, $"{declared.Name} may escalate privileges");
        }
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public void Labels_EachObjectAndPodTemplate_NamePartOfAndComponent(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        var labelled = rendering.OfType<k8s.IKubernetesObject<V1ObjectMeta>>()
            .Select(o => ($"{o.Kind} {o.Metadata.Name}", o.Metadata.Labels))
            .Concat(rendering.OfType<V1Deployment>().Select(d => ($"pods of {d.Metadata.Name}", d.Spec.Template.Metadata.Labels)))
            .ToList();

        Assert.All(labelled, item =>
        {
            var (what, labels) = item;
            Assert.True(labels?.TryGetValue("app.kubernetes.io/part-of", out var partOf) == true && partOf == "torrentedge", $"{what}: part-of");
            Assert.True(labels.TryGetValue("app.kubernetes.io/name", out var name) && name.Length > 0, $"{what}: name");
            Assert.True(labels.TryGetValue("app.kubernetes.io/component", out var component) && component.Length > 0, $"{what}: component");
        });
    }

    /// <summary>The settings deploy/ must give as the AppHost does; the rest (OTLP endpoint, ports, log format) differ by design.</summary>
    private static bool MustBeDeployed(string name) =>
        IsWiring(name)
        || name.StartsWith("Auth__", StringComparison.Ordinal)
        || name.StartsWith("PeerWorker__", StringComparison.Ordinal)
        || name.StartsWith("TorrentEdge__", StringComparison.Ordinal)
        || name == "OTEL_SERVICE_NAME";

    /// <summary>Connection strings and service discovery: the graph itself, which must match in both directions.</summary>
    private static bool IsWiring(string name) =>
        name.StartsWith("ConnectionStrings__", StringComparison.Ordinal) || HttpDiscovery().IsMatch(name);

    private static void AssertHttpProbe(V1Probe? probe, string path, string service)
    {
        Assert.True(probe?.HttpGet is not null, $"{service}: no HTTP probe for {path}");
        Assert.Equal(path, probe.HttpGet.Path);
        Assert.Equal("http", probe.HttpGet.Port.Value);
    }

    [GeneratedRegex(@"^services__[^_]+__http__\d+$")]
    private static partial Regex HttpDiscovery();

    [GeneratedRegex(@"^(?<repository>.+?)(:[^:/]+)?(@sha256:[0-9a-f]+)?$")]
    private static partial Regex ImageRepository();
}

/// <summary>A service's container publish settings, read from its project file (src/&lt;Project&gt;/&lt;Project&gt;.csproj).</summary>
internal sealed record ContainerSettings(string Repository, string BaseImage, string User, IReadOnlyList<(int Port, string Protocol)> Ports)
{
    /// <summary>UID of the <c>app</c> user in the .NET base images.</summary>
    public const long AppUserId = 1654;

    public static ContainerSettings Of(string service)
    {
        var projectDirectory = Directory.GetDirectories(Path.Combine(RepositoryRoot.Find(), "src"))
            .Single(d => string.Equals(Path.GetFileName(d), service, StringComparison.OrdinalIgnoreCase));
        var project = XDocument.Load(Path.Combine(projectDirectory, Path.GetFileName(projectDirectory) + ".csproj"));
        string Property(string name) =>
            project.Descendants(name).SingleOrDefault()?.Value.Trim() ?? throw new Xunit.Sdk.XunitException($"{service}: no <{name}> in its project file");

        var ports = project.Descendants("ContainerPort")
            .Select(p => (int.Parse((string)p.Attribute("Include")!, System.Globalization.CultureInfo.InvariantCulture), ((string?)p.Attribute("Type") ?? "tcp").ToLowerInvariant()))
            .ToList();
        return new ContainerSettings(Property("ContainerRepository"), Property("ContainerBaseImage"), Property("ContainerUser"), ports);
    }
}
