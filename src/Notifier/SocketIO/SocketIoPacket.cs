using System.Text.Json;

namespace TorrentEdge.Notifier.SocketIO;

/// <summary>Engine.IO v4 packet types (the first character of a text packet).</summary>
public static class EngineIoPacketType
{
    public const char Open = '0';
    public const char Close = '1';
    public const char Ping = '2';
    public const char Pong = '3';
    public const char Message = '4';
    public const char Upgrade = '5';
    public const char Noop = '6';

    /// <summary>Separates packets in one HTTP long-polling body.</summary>
    public const char RecordSeparator = '\u001e';
}

/// <summary>Socket.IO v5 packet types (the first character of an Engine.IO message).</summary>
public enum SocketIoPacketType
{
    Connect = 0,
    Disconnect = 1,
    Event = 2,
    Ack = 3,
    ConnectError = 4,
    BinaryEvent = 5,
    BinaryAck = 6,
}

/// <summary>
/// A decoded Socket.IO packet: <c>&lt;type&gt;[&lt;attachments&gt;-][/&lt;namespace&gt;,][&lt;ack id&gt;][JSON]</c>.
/// A pure codec (no I/O); anything malformed is refused by <see cref="TryParse"/>.
/// </summary>
public readonly record struct SocketIoPacket(SocketIoPacketType Type, string Namespace, long? AckId, JsonElement? Data)
{
    public const string DefaultNamespace = "/";

    /// <summary>Event name and first argument of an EVENT packet (<c>["name", arg]</c>).</summary>
    public bool TryGetEvent(out string name, out JsonElement argument)
    {
        name = "";
        argument = default;
        if (Type != SocketIoPacketType.Event || Data is not { ValueKind: JsonValueKind.Array } data || data.GetArrayLength() == 0
            || data[0].ValueKind != JsonValueKind.String)
        {
            return false;
        }
        name = data[0].GetString()!;
        if (data.GetArrayLength() > 1)
        {
            argument = data[1];
        }
        return true;
    }

    public static bool TryParse(ReadOnlySpan<char> text, out SocketIoPacket packet)
    {
        packet = default;
        if (text.IsEmpty || text[0] is < '0' or > '6')
        {
            return false;
        }
        var type = (SocketIoPacketType)(text[0] - '0');
        if (type is SocketIoPacketType.BinaryEvent or SocketIoPacketType.BinaryAck)
        {
            // Binary attachments are not part of this interface; refusing them keeps the parser small.
            return false;
        }
        var i = 1;
        var ns = DefaultNamespace;
        if (i < text.Length && text[i] == '/')
        {
            var comma = text[i..].IndexOf(',');
            var end = comma < 0 ? text.Length : i + comma;
            ns = text[i..end].ToString();
            i = comma < 0 ? text.Length : end + 1;
        }
        long? ack = null;
        var digits = i;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]) && digits - i < 18)
        {
            digits++;
        }
        if (digits > i)
        {
            ack = long.Parse(text[i..digits], System.Globalization.CultureInfo.InvariantCulture);
            i = digits;
        }
        JsonElement? data = null;
        if (i < text.Length)
        {
            try
            {
                using var doc = JsonDocument.Parse(text[i..].ToString(), new JsonDocumentOptions { MaxDepth = 16 });
                data = doc.RootElement.Clone();
            }
            catch (JsonException)
            {
                return false;
            }
        }
        packet = new SocketIoPacket(type, ns, ack, data);
        return true;
    }

    /// <summary>Engine.IO messages (the leading 4) carrying Socket.IO packets: <c>42["name",payload]</c>; the acknowledgement <c>43&lt;id&gt;[payload]</c>.</summary>
    public static string Event(string name, object payload)
        => "42" + JsonSerializer.Serialize(new object[] { name, payload }, Live.LiveJson.Options);

    public static string Ack(long id, object payload)
        => "43" + id.ToString(System.Globalization.CultureInfo.InvariantCulture) + JsonSerializer.Serialize(new[] { payload }, Live.LiveJson.Options);

    public static string Connected(string sid) => "40" + JsonSerializer.Serialize(new { sid }, Live.LiveJson.Options);

    public static string ConnectError(string ns, string message)
        => "44" + (ns == DefaultNamespace ? "" : ns + ",") + JsonSerializer.Serialize(new { message }, Live.LiveJson.Options);

    public const string Disconnect = "41";
}
