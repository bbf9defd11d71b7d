using System.Net;
using k8s.Models;

namespace TorrentEdge.AppHost.Tests.Deploy;

/// <summary>Where a connection comes from: a pod (in the suite's namespace unless namespace labels are given) or an address outside the cluster.</summary>
public sealed record TrafficSource(IDictionary<string, string>? PodLabels, IDictionary<string, string>? NamespaceLabels = null, IPAddress? Address = null)
{
    public static TrafficSource Pod(IDictionary<string, string> labels) => new(labels);

    public static TrafficSource PodInNamespace(string @namespace, IDictionary<string, string> labels) =>
        new(labels, new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = @namespace });

    public static TrafficSource Outside(string address) => new(null, null, IPAddress.Parse(address));
}

/// <summary>
/// Kubernetes' ingress rules for NetworkPolicies, as a CNI applies them: a pod selected by any policy with Ingress
/// accepts only what some rule of those policies allows (the union); a pod selected by none accepts everything.
/// </summary>
public static class NetworkPolicyModel
{
    public static bool Allows(
        IEnumerable<V1NetworkPolicy> policies, string @namespace, TrafficSource source,
        IDictionary<string, string> targetLabels, V1ContainerPort targetPort)
    {
        var selecting = policies
            .Where(p => (p.Spec.PolicyTypes ?? ["Ingress"]).Contains("Ingress") && Matches(p.Spec.PodSelector, targetLabels))
            .ToList();
        if (selecting.Count == 0)
        {
            return true;
        }
        return selecting.SelectMany(p => p.Spec.Ingress ?? [])
            .Any(rule => PortMatches(rule.Ports, targetPort) && SourceMatches(rule.FromProperty, @namespace, source));
    }

    public static bool Matches(V1LabelSelector? selector, IDictionary<string, string> labels)
    {
        if (selector is null)
        {
            return true;
        }
        foreach (var (key, value) in selector.MatchLabels ?? new Dictionary<string, string>())
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }
        foreach (var requirement in selector.MatchExpressions ?? [])
        {
            var has = labels.TryGetValue(requirement.Key, out var actual);
            var ok = requirement.OperatorProperty switch
            {
                "In" => has && requirement.Values.Contains(actual!),
                "NotIn" => !has || !requirement.Values.Contains(actual!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => throw new InvalidOperationException($"Unknown selector operator {requirement.OperatorProperty}"),
            };
            if (!ok)
            {
                return false;
            }
        }
        return true;
    }

    private static bool PortMatches(IList<V1NetworkPolicyPort>? ports, V1ContainerPort target)
    {
        if (ports is null || ports.Count == 0)
        {
            return true;
        }
        return ports.Any(p =>
            (p.Protocol ?? "TCP") == (target.Protocol ?? "TCP")
            && (p.Port is null
                || p.Port.Value == target.Name
                || p.Port.Value == target.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    private static bool SourceMatches(IList<V1NetworkPolicyPeer>? peers, string @namespace, TrafficSource source)
    {
        if (peers is null || peers.Count == 0)
        {
            return true;
        }
        return peers.Any(peer => PeerMatches(peer, @namespace, source));
    }

    private static bool PeerMatches(V1NetworkPolicyPeer peer, string @namespace, TrafficSource source)
    {
        if (peer.IpBlock is { } block)
        {
            return source.Address is { } address
                && IPNetwork.Parse(block.Cidr).Contains(address)
                && !(block.Except ?? []).Any(e => IPNetwork.Parse(e).Contains(address));
        }
        if (source.PodLabels is null)
        {
            return false;
        }
        var namespaceLabels = source.NamespaceLabels ?? new Dictionary<string, string> { ["kubernetes.io/metadata.name"] = @namespace };
        var sameNamespace = namespaceLabels.TryGetValue("kubernetes.io/metadata.name", out var sourceNamespace) && sourceNamespace == @namespace;
        var namespaceOk = peer.NamespaceSelector is null ? sameNamespace : Matches(peer.NamespaceSelector, namespaceLabels);
        return namespaceOk && Matches(peer.PodSelector, source.PodLabels);
    }
}
