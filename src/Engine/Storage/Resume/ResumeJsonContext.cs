using System.Text.Json.Serialization;

namespace TorrentEdge.Engine.Storage.Resume;

[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    UseStringEnumConverter = true,
    WriteIndented = false)]
[JsonSerializable(typeof(ResumeData))]
internal sealed partial class ResumeJsonContext : JsonSerializerContext;
