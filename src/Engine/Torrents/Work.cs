namespace TorrentEdge.Engine.Torrents;

/// <summary>Kinds of work the torrent loop handles, one at a time.</summary>
internal enum WorkKind
{
    Tick,
    Command,
    PeerConnected,
    PeerClosed,
    Choke,
    Unchoke,
    Interested,
    NotInterested,
    Have,
    Bitfield,
    HaveAll,
    HaveNone,
    Request,
    Cancel,
    RejectRequest,
    AllowedFast,
    Suggest,
    BlockReceived,
    BlockDropped,
    BlockUnrequested,
    Extended,
    PieceHashed,
    CheckDone,
    PeersFound,
    AnnounceDone,
    ReadFailed,
    PieceRechecked,
}

/// <summary>
/// One item for the torrent loop. A struct in an unbounded channel, so posting a block arrival
/// does not allocate; rare items carry an object in <see cref="Data"/>.
/// </summary>
internal readonly record struct Work(WorkKind Kind, PeerSession? Peer = null, int Index = 0, int Begin = 0, int Length = 0, object? Data = null);
