namespace TorrentEdge.Engine.Queueing;

/// <summary>Where a torrent stands in the queue relative to others; ties go to the one added first.</summary>
public enum QueuePriority
{
    Low = 0,
    Normal = 1,
    High = 2,
}
