namespace TorrentEdge.Engine.Storage;

/// <summary>How much a file is wanted; <see cref="Skip"/> means it is not downloaded or created.</summary>
public enum FilePriority
{
    Skip = 0,
    Low = 1,
    Normal = 4,
    High = 7,
}
