namespace TorrentEdge.Notifier.SocketIO;

/// <summary>The Socket.IO endpoint's settings (section <c>Notifier:SocketIO</c>); defaults are Socket.IO's own.</summary>
public sealed class SocketIoOptions
{
    public const string Path = "/socket.io/";

    public TimeSpan PingInterval { get; set; } = TimeSpan.FromSeconds(25);

    public TimeSpan PingTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Largest packet or polling body a client may send (Engine.IO's <c>maxPayload</c>).</summary>
    public int MaxPayload { get; set; } = 1_000_000;

    /// <summary>How long a client has to authenticate after connecting before it is disconnected.</summary>
    public TimeSpan AuthenticationTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Packets of a connection's own (acknowledgements, pings, errors) that may wait unsent before it is closed.</summary>
    public int ControlCapacity { get; set; } = 256;
}
