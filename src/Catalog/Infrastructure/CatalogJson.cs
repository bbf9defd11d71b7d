using System.Text.Json;
using System.Text.Json.Serialization;

namespace TorrentEdge.Catalog.Infrastructure;

/// <summary>The JSON shape used for documents stored in SQLite columns and for the HTTP API.</summary>
internal static class CatalogJson
{
    public static readonly JsonSerializerOptions Options = Create();

    public static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        return options;
    }
}
