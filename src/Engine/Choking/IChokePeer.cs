namespace TorrentEdge.Engine.Choking;

/// <summary>What the choker needs to know about a connected peer.</summary>
public interface IChokePeer
{
    /// <summary>The peer is interested in pieces we have.</summary>
    bool IsInterested { get; }

    /// <summary>We currently choke the peer.</summary>
    bool AmChoking { get; }

    /// <summary>Bytes per second the peer sends us (recent average).</summary>
    long DownloadRate { get; }

    /// <summary>Bytes per second we send the peer (recent average).</summary>
    long UploadRate { get; }

    /// <summary>The peer has every piece, so it never needs our upload.</summary>
    bool IsSeed { get; }

    /// <summary>The peer has sent us nothing for a long time although we asked; it only gets optimistic slots.</summary>
    bool IsSnubbed => false;

    /// <summary>When the connection was made; recent peers are favoured for optimistic unchokes.</summary>
    DateTimeOffset ConnectedAt { get; }
}
