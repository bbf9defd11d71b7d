using System.Text.Json;
using System.Text.Json.Serialization;

namespace TorrentEdge.AppHost.Hosting;

/// <summary>What the AppHost knows of one resource at a moment: written to the state file and printed in the table.</summary>
public sealed record ResourceState(
    string Name,
    string Kind,
    string State,
    int? Pid,
    string? Url,
    int Restarts = 0);

/// <summary>The machine-readable state file, <c>&lt;data-dir&gt;/apphost-state.json</c>, for tests and people alike.</summary>
public sealed record SuiteState(int AppHostPid, bool Ready, bool Stopping, IReadOnlyList<ResourceState> Resources)
{
    public const string FileName = "apphost-state.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Writes atomically (temporary file, then rename), so a reader never sees half a file.</summary>
    public void Write(string path)
    {
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, Json));
        File.Move(temporary, path, overwrite: true);
    }

    public static SuiteState? Read(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<SuiteState>(File.ReadAllText(path), Json);
        }
        catch (Exception e) when (e is IOException or JsonException)
        {
            return null;
        }
    }
}
