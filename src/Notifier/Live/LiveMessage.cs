using System.Buffers;
using System.Text;
using System.Text.Json;

namespace TorrentEdge.Notifier.Live;

/// <summary>
/// One event on its way to clients: its name, its torrent, the users it is for, and its payload as JSON (serialized once,
/// whatever the number of connections). <see cref="SubscribersOnly"/>: only connections subscribed to the torrent get it.
/// <see cref="Coalesces"/>: a newer one for the same torrent replaces one still waiting in a connection's buffer.
/// </summary>
public sealed class LiveMessage(string name, string infoHash, IReadOnlyList<string> users, bool subscribersOnly, bool coalesces, JsonElement payload)
{
    private byte[]? _socketIoFrame;

    public string Name { get; } = name;

    public string InfoHash { get; } = infoHash;

    public IReadOnlyList<string> Users { get; } = users;

    public bool SubscribersOnly { get; } = subscribersOnly;

    public bool Coalesces { get; } = coalesces;

    public JsonElement Payload { get; } = payload;

    /// <summary>When it was first handed to a bus (Unix milliseconds), for the latency figures.</summary>
    public long PublishedAtMs { get; init; }

    /// <summary>The Engine.IO/Socket.IO text frame <c>42["name",payload]</c>, built once and shared by every connection.</summary>
    public ReadOnlyMemory<byte> SocketIoFrame => _socketIoFrame ??= BuildSocketIoFrame();

    private byte[] BuildSocketIoFrame()
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        buffer.Write("42"u8);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            writer.WriteStringValue(Name);
            Payload.WriteTo(writer);
            writer.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    public static LiveMessage Create<TPayload>(string name, string infoHash, IReadOnlyList<string> users, TPayload payload,
        bool subscribersOnly = false, bool coalesces = false)
        => new(name, infoHash, users, subscribersOnly, coalesces, JsonSerializer.SerializeToElement(payload, LiveJson.Options))
        {
            PublishedAtMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(),
        };

    /// <summary>
    /// What a connection that lags sends instead of <paramref name="older"/> (still waiting) and <paramref name="newer"/>:
    /// the newer figures; for pieces, the newer index with every index of both in <c>pieces</c> (so none is lost).
    /// </summary>
    public static LiveMessage Coalesce(LiveMessage older, LiveMessage newer)
    {
        if (newer.Name != Contracts.Live.LiveEventNames.Piece)
        {
            return newer;
        }
        var pieces = new List<int>();
        foreach (var m in (ReadOnlySpan<LiveMessage>)[older, newer])
        {
            if (m.Payload.TryGetProperty("pieces", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                pieces.AddRange(list.EnumerateArray().Select(p => p.GetInt32()));
            }
            else
            {
                pieces.Add(m.Payload.GetProperty("index").GetInt32());
            }
        }
        var payload = JsonSerializer.Deserialize<Contracts.Live.TorrentPiecePayload>(newer.Payload, LiveJson.Options)! with { Pieces = pieces };
        return new LiveMessage(newer.Name, newer.InfoHash, newer.Users, newer.SubscribersOnly, newer.Coalesces,
            JsonSerializer.SerializeToElement(payload, LiveJson.Options))
        {
            PublishedAtMs = older.PublishedAtMs,
        };
    }

    public override string ToString() => Name + " " + InfoHash + " " + Encoding.UTF8.GetString(SocketIoFrame.Span);
}

/// <summary>The JSON of live payloads: camelCase, enums as names (as on the Kafka wire and the hub).</summary>
public static class LiveJson
{
    public static readonly JsonSerializerOptions Options = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new System.Text.Json.Serialization.JsonStringEnumConverter());
        options.MakeReadOnly(populateMissingResolver: true);
        return options;
    }
}
