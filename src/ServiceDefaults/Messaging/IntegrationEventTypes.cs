using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using TorrentEdge.Contracts;

namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>
/// Maps the <c>message-type</c> header to a contract type and the newest schema version this build understands.
/// Every concrete <see cref="IntegrationEvent"/> of the Contracts assembly is known at version 1; add others (or newer versions) with <see cref="Add"/>.
/// </summary>
public sealed class IntegrationEventTypes
{
    private readonly ConcurrentDictionary<string, (Type Type, int SupportedVersion)> _types = new(StringComparer.Ordinal);

    public IntegrationEventTypes()
    {
        AddAssembly(typeof(IntegrationEvent).Assembly);
    }

    /// <summary>The header value for <paramref name="type"/>: its simple name (contract names are unique in Contracts).</summary>
    public static string NameOf(Type type) => type.Name;

    /// <summary>Registers <paramref name="type"/>, understood up to <paramref name="supportedSchemaVersion"/>.</summary>
    public IntegrationEventTypes Add(Type type, int supportedSchemaVersion = 1)
    {
        if (!typeof(IntegrationEvent).IsAssignableFrom(type) || type.IsAbstract)
        {
            throw new ArgumentException($"{type} is not a concrete IntegrationEvent.", nameof(type));
        }
        _types[NameOf(type)] = (type, supportedSchemaVersion);
        return this;
    }

    public IntegrationEventTypes Add<TEvent>(int supportedSchemaVersion = 1) where TEvent : IntegrationEvent
        => Add(typeof(TEvent), supportedSchemaVersion);

    /// <summary>Registers every concrete integration event in <paramref name="assembly"/> at version 1.</summary>
    public IntegrationEventTypes AddAssembly(Assembly assembly)
    {
        foreach (var type in assembly.GetTypes().Where(t => t is { IsAbstract: false, IsClass: true } && typeof(IntegrationEvent).IsAssignableFrom(t)))
        {
            Add(type);
        }
        return this;
    }

    /// <summary>As <see cref="TryGet(string, out Type, out int)"/> for a name in UTF-8 (a header's bytes); <paramref name="name"/> is the registered name.</summary>
    public bool TryGet(ReadOnlySpan<byte> utf8Name, [NotNullWhen(true)] out string? name, out Type type, out int supportedSchemaVersion)
    {
        Span<char> chars = stackalloc char[128];
        if (utf8Name.Length <= chars.Length && Encoding.UTF8.TryGetChars(utf8Name, chars, out var written)
            && _types.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(chars[..written], out name, out var entry))
        {
            (type, supportedSchemaVersion) = entry;
            return true;
        }
        name = null;
        type = typeof(void);
        supportedSchemaVersion = 0;
        return false;
    }

    public bool TryGet(string name, out Type type, out int supportedSchemaVersion)
    {
        if (_types.TryGetValue(name, out var entry))
        {
            (type, supportedSchemaVersion) = entry;
            return true;
        }
        type = typeof(void);
        supportedSchemaVersion = 0;
        return false;
    }
}

/// <summary>The one JSON shape of integration events on the wire (camelCase, enums as strings).</summary>
public static class IntegrationEventJson
{
    public static JsonSerializerOptions Options { get; } = CreateOptions();

    /// <summary>The event as UTF-8 JSON in this shape, as its runtime type: what goes into a Kafka message's value.</summary>
    public static byte[] SerializeToUtf8Bytes(IntegrationEvent @event)
        => JsonSerializer.SerializeToUtf8Bytes(@event, @event.GetType(), Options);

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new JsonStringEnumConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
