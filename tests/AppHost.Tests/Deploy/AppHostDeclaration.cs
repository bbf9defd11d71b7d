using System.Text.RegularExpressions;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;

namespace TorrentEdge.AppHost.Tests.Deploy;

/// <summary>One service as the AppHost declares it: what the manifests under deploy/ must agree with.</summary>
/// <param name="EnvironmentNames">Every variable the AppHost hands the service (a superset is fine: the tests pick the families deploy/ must carry).</param>
/// <param name="References">The services whose endpoints it is handed (<c>services__&lt;name&gt;__http__0</c>).</param>
public sealed record DeclaredService(string Name, int Replicas, IReadOnlySet<string> EnvironmentNames, IReadOnlyList<string> References);

/// <summary>A Kafka topic the AppHost creates, with its partitions.</summary>
public sealed record DeclaredTopic(string Name, int Partitions);

/// <summary>
/// The seam between the manifest tests and the AppHost: the only place that reads the AppHost's declaration, from
/// the Aspire app model that src/AppHost/Program.cs builds (in publish mode: nothing starts). Per project resource:
/// its name, its replica count, the variables its environment callbacks write, and the <c>services__*</c> keys as
/// references. (<c>GetEnvironmentVariableValuesAsync</c> is obsolete in 13.6, hence the callbacks.)
/// </summary>
public static partial class AppHostDeclaration
{
    private static readonly Lazy<Task<IReadOnlyList<DeclaredService>>> Declared = new(ReadAppModelAsync);

    public static Task<IReadOnlyList<DeclaredService>> DeclaredServicesAsync() => Declared.Value;

    public static IReadOnlyList<DeclaredTopic> DeclaredTopics() =>
        Topology.Topics.Select(t => new DeclaredTopic(t.Name, t.Partitions)).ToList();

    private static async Task<IReadOnlyList<DeclaredService>> ReadAppModelAsync()
    {
        var output = Path.Combine(Path.GetTempPath(), "torrentedge-declaration");
        await using var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.AppHost>(
            ["--operation", "publish", "--publisher", "manifest", "--output-path", output, "--data-dir", output]);
        var services = new List<DeclaredService>();
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            var context = new EnvironmentCallbackContext(builder.ExecutionContext, project);
            foreach (var callback in project.Annotations.OfType<EnvironmentCallbackAnnotation>())
            {
                await callback.Callback(context);
            }
            var references = context.EnvironmentVariables.Keys
                .Select(k => ServiceReference().Match(k))
                .Where(m => m.Success)
                .Select(m => m.Groups[1].Value)
                .Distinct()
                .ToList();
            services.Add(new DeclaredService(project.Name, project.GetReplicaCount(), context.EnvironmentVariables.Keys.ToHashSet(StringComparer.Ordinal), references));
        }
        return services;
    }

    [GeneratedRegex(@"^services__([^_]+)__http__\d+$")]
    private static partial Regex ServiceReference();
}
