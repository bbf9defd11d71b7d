using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace TorrentEdge.PeerWorker.Tests.Functional;

/// <summary>One PeerWorker replica in this process, against an embedded Kafka and a shared download root.</summary>
internal sealed class PeerWorkerFactory(string bootstrapServers, string downloadRoot, string replicaId, TimeSpan? sessionTimeout = null) : WebApplicationFactory<Program>
{
    public string ReplicaId => replicaId;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:kafka", bootstrapServers);
        builder.UseSetting("PeerWorker:ReplicaId", replicaId);
        builder.UseSetting("PeerWorker:DownloadRoot", downloadRoot);
        builder.UseSetting("PeerWorker:ListenAddress", "127.0.0.1");
        builder.UseSetting("PeerWorker:PeerPort", "0");
        builder.UseSetting("PeerWorker:SessionTimeout", (sessionTimeout ?? TimeSpan.FromSeconds(6)).ToString("c", System.Globalization.CultureInfo.InvariantCulture));
        // Nothing listens there: every spec of these tests carries its metainfo inline.
        builder.UseSetting("services:catalog:http:0", "http://127.0.0.1:9");
    }
}
