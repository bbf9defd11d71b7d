namespace TorrentEdge.Engine.Metainfo;

/// <summary>A .torrent file, info dictionary or magnet link that cannot be used, with the reason.</summary>
public sealed class MetainfoException : Exception
{
    public MetainfoException(string message)
        : base(message)
    {
    }

    public MetainfoException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
