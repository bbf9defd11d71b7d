using k8s.Models;

namespace TorrentEdge.AppHost.Tests.Deploy;

/// <summary>The peer worker's own resources: autoscaler, disruption budget, shared volume and the public peer port.</summary>
public sealed class PeerWorkerTests
{
    private const string PeerWorker = "peerworker";

    /// <summary>The renderings meant for a real cluster: the dev overlay runs on one node, without the two below.</summary>
    public static readonly TheoryData<string> ClusterRenderings = new("base", "overlays/prod");

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public async Task Autoscaler_PeerWorker_FromTheDeclaredReplicasUpToThePartitions(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        var declared = (await AppHostDeclaration.DeclaredServicesAsync()).Single(s => s.Name == PeerWorker);
        var specPartitions = AppHostDeclaration.DeclaredTopics().Single(t => t.Name == "torrent-specs").Partitions;

        var autoscaler = Assert.Single(rendering.OfType<V2HorizontalPodAutoscaler>());
        Assert.Equal(("apps/v1", "Deployment", PeerWorker),
            (autoscaler.Spec.ScaleTargetRef.ApiVersion, autoscaler.Spec.ScaleTargetRef.Kind, autoscaler.Spec.ScaleTargetRef.Name));
        Assert.Equal(declared.Replicas, autoscaler.Spec.MinReplicas);
        Assert.InRange(autoscaler.Spec.MaxReplicas, declared.Replicas + 1, specPartitions);
        Assert.NotEmpty(autoscaler.Spec.Metrics);
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public void DisruptionBudget_PeerWorker_KeepsOneReplicaAndLetsADrainProceed(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        var deployment = rendering.Deployment(PeerWorker);

        var budget = Assert.Single(rendering.OfType<V1PodDisruptionBudget>());
        Assert.True(NetworkPolicyModel.Matches(budget.Spec.Selector, deployment.Spec.Template.Metadata.Labels), "the budget misses the peer workers");
        var minAvailable = int.Parse(budget.Spec.MinAvailable.Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(minAvailable, 1, deployment.Spec.Replicas!.Value - 1);
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public void Volume_PeerWorker_DownloadsAndResumeDataOnOneClaimForEveryReplica(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        var pod = rendering.Deployment(PeerWorker).Spec.Template.Spec;
        var container = rendering.Container(PeerWorker);
        var environment = rendering.Environment(container);

        var volume = Assert.Single(pod.Volumes, v => v.PersistentVolumeClaim is not null);
        var claim = rendering.Single<V1PersistentVolumeClaim>(volume.PersistentVolumeClaim.ClaimName);
        var mount = Assert.Single(container.VolumeMounts, m => m.Name == volume.Name);
        Assert.NotEqual(true, mount.ReadOnlyProperty);
        Assert.StartsWith(mount.MountPath.TrimEnd('/') + "/", environment["PeerWorker__DownloadRoot"].Value, StringComparison.Ordinal);
        Assert.StartsWith(mount.MountPath.TrimEnd('/') + "/", environment["PeerWorker__ResumeRoot"].Value, StringComparison.Ordinal);
        Assert.NotNull(claim.Spec.Resources.Requests["storage"]);
    }

    [Theory]
    [MemberData(nameof(ClusterRenderings))]
    public void Volume_ClusterRenderings_ReadWriteMany(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        var volume = Assert.Single(rendering.Deployment(PeerWorker).Spec.Template.Spec.Volumes, v => v.PersistentVolumeClaim is not null);

        Assert.Equal(["ReadWriteMany"], rendering.Single<V1PersistentVolumeClaim>(volume.PersistentVolumeClaim.ClaimName).Spec.AccessModes);
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public void PeerPort_EachRendering_ListensOnPeerWorkerPeerPortOverTcpAndUdp(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        var container = rendering.Container(PeerWorker);
        var peerPort = int.Parse(rendering.Environment(container)["PeerWorker__PeerPort"].Value, System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(["TCP", "UDP"], container.Ports.Where(p => p.ContainerPort == peerPort).Select(p => p.Protocol).Order());
    }

    [Theory]
    [MemberData(nameof(ClusterRenderings))]
    public void PeerPort_ClusterRenderings_PublishedOnTheNodeUnderTheSameNumber(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        var container = rendering.Container(PeerWorker);
        var peerPort = int.Parse(rendering.Environment(container)["PeerWorker__PeerPort"].Value, System.Globalization.CultureInfo.InvariantCulture);
        var deployment = rendering.Deployment(PeerWorker);

        // The port a replica announces to trackers is the one peers dial on its node.
        Assert.All(container.Ports.Where(p => p.ContainerPort == peerPort), p => Assert.Equal(peerPort, p.HostPort));
        Assert.Equal(2, container.Ports.Count(p => p.HostPort == peerPort));
        // A port range would let a replica settle on a port nobody publishes.
        Assert.Equal(peerPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            rendering.Environment(container).GetValueOrDefault("PeerWorker__PeerPortMax")?.Value ?? peerPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // A surge pod would find no node with the port free.
        Assert.Equal("0", deployment.Spec.Strategy.RollingUpdate.MaxSurge.Value);
    }

    [Theory]
    [MemberData(nameof(Rendering.All), MemberType = typeof(Rendering))]
    public void ReplicaId_EachReplica_ItsPodName(string kustomization)
    {
        var rendering = Rendering.Of(kustomization);
        var environment = rendering.Environment(rendering.Container(PeerWorker));

        Assert.Equal("metadata.name", environment["POD_NAME"].ValueFrom?.FieldRef?.FieldPath);
        Assert.Equal("$(POD_NAME)", environment["PeerWorker__ReplicaId"].Value);
    }
}
