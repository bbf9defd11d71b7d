using k8s.Models;

namespace TorrentEdge.AppHost.Tests.Deploy;

/// <summary>What is public (the Gateway through the Ingress, the peer port) and who may call whom inside.</summary>
public sealed class NetworkTests
{
    private static readonly Dictionary<string, string> IngressController = new() { ["app.kubernetes.io/name"] = "ingress-nginx" };

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public void Ingress_Gateway_CarriesTheSiteHubsAndSocketIo(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        var gatewayPort = Assert.Single(rendering.Service("gateway").Spec.Ports, p => p.Name == "http");
        var ingresses = rendering.OfType<V1Ingress>().ToList();

        Assert.NotEmpty(ingresses);
        Assert.All(ingresses, i => Assert.Equal("nginx", i.Spec.IngressClassName));
        var paths = ingresses.SelectMany(i => i.Spec.Rules.SelectMany(r => r.Http.Paths)).ToList();
        Assert.Equal(["/", "/hubs", "/socket.io"], paths.Select(p => p.Path).Order(StringComparer.Ordinal));
        // Only the Gateway is public.
        Assert.All(paths, p =>
        {
            Assert.Equal("gateway", p.Backend.Service.Name);
            Assert.True(p.Backend.Service.Port.Name == gatewayPort.Name || p.Backend.Service.Port.Number == gatewayPort.Port);
            Assert.Equal("Prefix", p.PathType);
        });
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public void Ingress_WebSocketPaths_KeepIdleConnectionsForAnHour(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);

        foreach (var path in new[] { "/hubs", "/socket.io" })
        {
            var ingress = Assert.Single(rendering.OfType<V1Ingress>(), i => i.Spec.Rules.Any(r => r.Http.Paths.Any(p => p.Path == path)));
            foreach (var timeout in new[] { "proxy-read-timeout", "proxy-send-timeout" })
            {
                var annotations = ingress.Metadata.Annotations ?? new Dictionary<string, string>();
                Assert.True(annotations.TryGetValue($"nginx.ingress.kubernetes.io/{timeout}", out var seconds), $"{ingress.Metadata.Name}: no {timeout}");
                Assert.True(int.Parse(seconds, System.Globalization.CultureInfo.InvariantCulture) >= 3600, $"{path}: {timeout} {seconds} s");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public void NetworkPolicies_DefaultDeny_EveryPodIsolatedForIngress(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);

        Assert.Contains(rendering.OfType<V1NetworkPolicy>(), p =>
            p.Spec.PodSelector.MatchLabels is null or { Count: 0 }
            && p.Spec.PodSelector.MatchExpressions is null or { Count: 0 }
            && p.Spec.PolicyTypes.SequenceEqual(["Ingress"])
            && p.Spec.Ingress is null or { Count: 0 });
        // An unknown pod in the namespace is reached by nobody.
        Assert.False(Allows(rendering, TrafficSource.Pod(Labels("gateway")), Labels("something-else"), new V1ContainerPort { ContainerPort = 8080, Name = "http" }));
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public async Task NetworkPolicies_BetweenServices_AllowedExactlyAlongTheReferences(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        var declared = await AppHostDeclaration.DeclaredServicesAsync();

        foreach (var source in declared)
        {
            foreach (var target in declared.Where(t => t != source))
            {
                var allowed = Allows(rendering, TrafficSource.Pod(PodLabels(rendering, source.Name)), PodLabels(rendering, target.Name), HttpPort(rendering, target.Name));
                Assert.True(allowed == source.References.Contains(target.Name),
                    $"{kustomization}: {source.Name} -> {target.Name} is {(allowed ? "allowed" : "denied")}; references of {source.Name}: {string.Join(", ", source.References)}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public async Task NetworkPolicies_FromTheIngressController_OnlyTheGateway(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        var controller = TrafficSource.PodInNamespace("ingress-nginx", IngressController);

        foreach (var service in await AppHostDeclaration.DeclaredServicesAsync())
        {
            Assert.Equal(service.Name == "gateway", Allows(rendering, controller, PodLabels(rendering, service.Name), HttpPort(rendering, service.Name)));
        }
        // Pods elsewhere do not pass for the suite's own by their labels.
        Assert.False(Allows(rendering, TrafficSource.PodInNamespace("elsewhere", Labels("gateway")), PodLabels(rendering, "catalog"), HttpPort(rendering, "catalog")));
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public async Task NetworkPolicies_FromOutside_OnlyThePeerPortOverTcpAndUdp(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        var peer = TrafficSource.Outside("203.0.113.7");
        var peer6 = TrafficSource.Outside("2001:db8::7");

        foreach (var service in await AppHostDeclaration.DeclaredServicesAsync())
        {
            Assert.False(Allows(rendering, peer, PodLabels(rendering, service.Name), HttpPort(rendering, service.Name)), $"{service.Name}'s HTTP is public");
        }
        var peerPorts = rendering.Container("peerworker").Ports.Where(p => p.Name != "http").ToList();
        Assert.Equal(2, peerPorts.Count);
        Assert.All(peerPorts, port =>
        {
            Assert.True(Allows(rendering, peer, PodLabels(rendering, "peerworker"), port), $"{port.Protocol} {port.ContainerPort} is closed to IPv4 peers");
            Assert.True(Allows(rendering, peer6, PodLabels(rendering, "peerworker"), port), $"{port.Protocol} {port.ContainerPort} is closed to IPv6 peers");
        });
    }

    private static bool Allows(Rendering rendering, TrafficSource source, IDictionary<string, string> target, V1ContainerPort port)
    {
        var policies = rendering.OfType<V1NetworkPolicy>().ToList();
        var @namespace = policies.Select(p => p.Metadata.NamespaceProperty).FirstOrDefault() ?? "default";
        return NetworkPolicyModel.Allows(policies, @namespace, source, target, port);
    }

    private static IDictionary<string, string> PodLabels(Rendering rendering, string service) =>
        rendering.Deployment(service).Spec.Template.Metadata.Labels;

    private static V1ContainerPort HttpPort(Rendering rendering, string service) =>
        Assert.Single(rendering.Container(service).Ports, p => p.Name == "http");

    private static Dictionary<string, string> Labels(string name) => new() { ["app.kubernetes.io/name"] = name };
}
