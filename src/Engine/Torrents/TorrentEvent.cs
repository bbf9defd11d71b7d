using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Torrents;

/// <summary>Something that happened to a torrent, read from <see cref="ClientEngine.Events"/>.</summary>
public abstract record TorrentEvent(InfoHash InfoHash, DateTimeOffset At);

public sealed record TorrentAddedEvent(InfoHash InfoHash, DateTimeOffset At, string Name) : TorrentEvent(InfoHash, At);

public sealed record MetadataReceivedEvent(InfoHash InfoHash, DateTimeOffset At, string Name, long TotalLength) : TorrentEvent(InfoHash, At);

/// <summary>Progress, at most about once a second per torrent.</summary>
public sealed record ProgressEvent(InfoHash InfoHash, DateTimeOffset At, TorrentStatus Status) : TorrentEvent(InfoHash, At);

/// <summary>Pieces verified since the last such event (batched, so a fast download does not flood the stream).</summary>
public sealed record PiecesVerifiedEvent(InfoHash InfoHash, DateTimeOffset At, IReadOnlyList<int> Pieces) : TorrentEvent(InfoHash, At);

public sealed record PieceHashFailedEvent(InfoHash InfoHash, DateTimeOffset At, int Piece, string? Peer) : TorrentEvent(InfoHash, At);

/// <summary>A piece we had could not be read whole from disk (its file changed): it is no longer served and is checked again.</summary>
public sealed record PieceReadFailedEvent(InfoHash InfoHash, DateTimeOffset At, int Piece) : TorrentEvent(InfoHash, At);

public sealed record PeerBannedEvent(InfoHash InfoHash, DateTimeOffset At, string Peer, string Reason) : TorrentEvent(InfoHash, At);

public sealed record TorrentCompletedEvent(InfoHash InfoHash, DateTimeOffset At, long TotalBytes, TimeSpan Elapsed) : TorrentEvent(InfoHash, At);

public sealed record TorrentSeedingEvent(InfoHash InfoHash, DateTimeOffset At) : TorrentEvent(InfoHash, At);

public sealed record TorrentErrorEvent(InfoHash InfoHash, DateTimeOffset At, string Message) : TorrentEvent(InfoHash, At);

public sealed record TorrentStateChangedEvent(InfoHash InfoHash, DateTimeOffset At, TorrentState From, TorrentState To) : TorrentEvent(InfoHash, At);

public sealed record TorrentRemovedEvent(InfoHash InfoHash, DateTimeOffset At, bool DataDeleted) : TorrentEvent(InfoHash, At);

/// <summary>The queue's order or its active set changed; <paramref name="Active"/> lists the torrents allowed to run.</summary>
public sealed record QueueChangedEvent(InfoHash InfoHash, DateTimeOffset At, IReadOnlyList<InfoHash> Active, IReadOnlyList<InfoHash> Queued) : TorrentEvent(InfoHash, At);
