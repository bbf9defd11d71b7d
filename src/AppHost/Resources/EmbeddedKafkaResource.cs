using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.AppHost.Resources;

/// <summary>
/// The suite's Kafka when no external cluster is given: librdkafka's mock cluster inside the AppHost process, with
/// its brokers on 127.0.0.1 and the suite's topics. Everything lives in memory and ends with the AppHost.
/// </summary>
public sealed class EmbeddedKafkaResource(string name, int brokers, IReadOnlyList<TopicSpec> topics)
    : Resource(name), IResourceWithConnectionString
{
    private readonly TaskCompletionSource<string> _bootstrapServers = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Brokers { get; } = brokers;
    public IReadOnlyList<TopicSpec> Topics { get; } = topics;

    /// <summary>The brokers' <c>host:port</c> list, known once the cluster runs.</summary>
    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create($"{new BootstrapServers(this)}");

    /// <summary>The running mock cluster (null until it starts): tests set its brokers down and up through it.</summary>
    public EmbeddedKafka? Cluster { get; private set; }

    internal EmbeddedKafka Start()
    {
        var cluster = EmbeddedKafka.Start(Brokers);
        Cluster = cluster;
        foreach (var topic in Topics)
        {
            cluster.CreateTopic(topic.Name, topic.Partitions);
        }
        _bootstrapServers.TrySetResult(cluster.BootstrapServers);
        return cluster;
    }

    internal void Fail(Exception e) => _bootstrapServers.TrySetException(e);

    private sealed class BootstrapServers(EmbeddedKafkaResource owner) : IValueProvider, IManifestExpressionProvider
    {
        public string ValueExpression => $"{{{owner.Name}.connectionString}}";

        public async ValueTask<string?> GetValueAsync(CancellationToken cancellationToken = default) =>
            await owner._bootstrapServers.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
    }
}

public static class KafkaResourceExtensions
{
    /// <summary>
    /// Kafka for the suite: the cluster named by <c>ConnectionStrings__{name}</c> when given (or when publishing
    /// a manifest), else the embedded cluster, shown in the dashboard with its state and bootstrap servers.
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddKafka(this IDistributedApplicationBuilder builder, string name)
    {
        if (builder.ExecutionContext.IsPublishMode || !string.IsNullOrEmpty(builder.Configuration.GetConnectionString(name)))
        {
            return builder.AddExternalConnectionString(name);
        }

        var kafka = builder.AddResource(new EmbeddedKafkaResource(name, Topology.KafkaBrokers, Topology.Topics))
            .WithInitialState(new CustomResourceSnapshot
            {
                ResourceType = "EmbeddedKafka",
                State = KnownResourceStates.NotStarted,
                Properties = [],
            })
            .ExcludeFromManifest();

        builder.Eventing.Subscribe<InitializeResourceEvent>(kafka.Resource, async (e, ct) =>
        {
            var resource = (EmbeddedKafkaResource)e.Resource;
            await e.Notifications.PublishUpdateAsync(resource, s => s with { State = KnownResourceStates.Starting }).ConfigureAwait(false);
            EmbeddedKafka cluster;
            try
            {
                cluster = resource.Start();
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or InvalidOperationException)
            {
                resource.Fail(ex);
                e.Logger.LogError(ex, "The embedded Kafka could not start: {Reason}. Give an external cluster as ConnectionStrings__{Name}.", ex.Message, resource.Name);
                await e.Notifications.PublishUpdateAsync(resource, s => s with { State = KnownResourceStates.FailedToStart }).ConfigureAwait(false);
                return;
            }

            // Disposed last: the services, which the orchestrator stops first, still talk to it on their way out.
            e.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopped.Register(cluster.Dispose);
            e.Logger.LogInformation("Embedded Kafka: {Brokers} brokers at {BootstrapServers}; topics {Topics}", resource.Brokers, cluster.BootstrapServers,
                string.Join(", ", resource.Topics.Select(t => $"{t.Name} ({t.Partitions})")));
            await e.Notifications.PublishUpdateAsync(resource, s => s with
            {
                State = KnownResourceStates.Running,
                StartTimeStamp = DateTime.UtcNow,
                Properties = [.. s.Properties, new("bootstrap.servers", cluster.BootstrapServers), new("topics", string.Join(", ", resource.Topics.Select(t => t.Name)))],
            }).ConfigureAwait(false);
        });
        // Typed as any connection string, so the embedded and an external cluster read alike in Program.cs.
        return builder.CreateResourceBuilder<IResourceWithConnectionString>(kafka.Resource);
    }
}
