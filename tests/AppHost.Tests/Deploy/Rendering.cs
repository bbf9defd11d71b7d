using System.Collections.Concurrent;
using k8s;
using k8s.Models;

namespace TorrentEdge.AppHost.Tests.Deploy;

/// <summary>One kustomization under deploy/ rendered by kubectl and parsed into typed Kubernetes objects.</summary>
public sealed class Rendering
{
    /// <summary>Every kustomization the tests render: the base and each overlay.</summary>
    public static readonly TheoryData<string> All = new("base", "overlays/dev", "overlays/prod");

    private static readonly ConcurrentDictionary<string, Lazy<Rendering>> Cache = new();

    private static readonly Dictionary<string, Type> CustomResources = new()
    {
        [$"{KafkaTopic.ApiGroupVersion}/KafkaTopic"] = typeof(KafkaTopic),
        [$"{KafkaTopic.ApiGroupVersion}/Kafka"] = typeof(StrimziResource),
        [$"{KafkaTopic.ApiGroupVersion}/KafkaNodePool"] = typeof(StrimziResource),
    };

    private Rendering(string name, IReadOnlyList<object> objects)
    {
        Name = name;
        Objects = objects;
    }

    /// <summary>deploy/&lt;name&gt;, e.g. "overlays/prod".</summary>
    public string Name { get; }

    public IReadOnlyList<object> Objects { get; }

    public static string DeployDirectory => Path.Combine(RepositoryRoot.Find(), "deploy");

    /// <summary>Renders deploy/<paramref name="name"/> once per test run.</summary>
    public static Rendering Of(string name) => Cache.GetOrAdd(name, n => new Lazy<Rendering>(() => Render(n))).Value;

    /// <summary>
    /// Parses kubectl's output strictly: an unknown kind or a misspelt field fails here, before any assertion.
    /// </summary>
    public static IReadOnlyList<object> Parse(string yaml) => KubernetesYaml.LoadAllFromString(yaml, CustomResources, strict: true);

    private static Rendering Render(string name) => new(name, Parse(Kubectl.Kustomize(Path.Combine(DeployDirectory, name))));

    public IEnumerable<T> OfType<T>() => Objects.OfType<T>();

    public V1Deployment Deployment(string name) => Single<V1Deployment>(name);

    public V1Service Service(string name) => Single<V1Service>(name);

    public T Single<T>(string name) where T : IKubernetesObject<V1ObjectMeta>
    {
        var matches = Objects.OfType<T>().Where(o => o.Metadata.Name == name).ToList();
        Assert.True(matches.Count == 1, $"{Name}: expected one {typeof(T).Name} named {name}, found {matches.Count}");
        return matches[0];
    }

    /// <summary>The service's one container (each Deployment runs one).</summary>
    public V1Container Container(string service)
    {
        var containers = Deployment(service).Spec.Template.Spec.Containers;
        Assert.True(containers.Count == 1, $"{Name}: {service} has {containers.Count} containers");
        return containers[0];
    }

    /// <summary>
    /// A container's environment as Kubernetes builds it: <c>envFrom</c> ConfigMaps first (resolved from this rendering,
    /// so kustomize's hashed names count), then <c>env</c>. Values of entries from a ConfigMap key are resolved too;
    /// entries from a Secret or the downward API keep their <see cref="V1EnvVar.ValueFrom"/>.
    /// </summary>
    public IReadOnlyDictionary<string, V1EnvVar> Environment(V1Container container)
    {
        var environment = new Dictionary<string, V1EnvVar>(StringComparer.Ordinal);
        foreach (var source in container.EnvFrom ?? [])
        {
            Assert.True(source.ConfigMapRef is not null, $"{Name}: {container.Name} takes envFrom other than a ConfigMap");
            foreach (var (key, value) in Single<V1ConfigMap>(source.ConfigMapRef.Name).Data ?? new Dictionary<string, string>())
            {
                environment[(source.Prefix ?? "") + key] = new V1EnvVar { Name = key, Value = value };
            }
        }
        foreach (var variable in container.Env ?? [])
        {
            environment[variable.Name] = variable.ValueFrom?.ConfigMapKeyRef is { } reference
                ? new V1EnvVar { Name = variable.Name, Value = ConfigMapValue(reference) }
                : variable;
        }
        return environment;
    }

    private string ConfigMapValue(V1ConfigMapKeySelector reference)
    {
        var data = Single<V1ConfigMap>(reference.Name).Data ?? new Dictionary<string, string>();
        Assert.True(data.TryGetValue(reference.Key, out var value), $"{Name}: ConfigMap {reference.Name} has no key {reference.Key}");
        return value;
    }
}
