using TorrentEdge.PeerWorker.Extensions;

namespace TorrentEdge.PeerWorker.Tests.Extensions;

public sealed class PeerWorkerOptionsTests
{
    [Fact]
    public void DefaultReplicaId_AspireReplica_IsServiceNameAndInstanceId() =>
        Assert.Equal("peerworker-ytrnhqcw", PeerWorkerOptions.DefaultReplicaId("peerworker", "service.instance.id=ytrnhqcw"));

    [Fact]
    public void DefaultReplicaId_InstanceIdAlreadyNamed_IsKeptAsIs() =>
        Assert.Equal("peerworker-1", PeerWorkerOptions.DefaultReplicaId("peerworker", "deployment.environment=dev, service.instance.id=peerworker-1"));

    [Fact]
    public void DefaultReplicaId_NoInstanceId_IsTheHostName() =>
        Assert.Equal(Environment.MachineName, PeerWorkerOptions.DefaultReplicaId("peerworker", "deployment.environment=dev"));
}
