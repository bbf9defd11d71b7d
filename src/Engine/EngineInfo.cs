namespace TorrentEdge.Engine;

/// <summary>Identity of this engine on the wire.</summary>
public static class EngineInfo
{
    /// <summary>Azureus-style client prefix for peer ids: -TE0100-.</summary>
    public const string PeerIdPrefix = "-TE0100-";
}
