using System.Net;
using TorrentEdge.Engine.Common;
using TorrentEdge.Engine.Storage;
using TorrentEdge.Engine.Trackers;

namespace TorrentEdge.Engine.Torrents;

/// <summary>What a peer's session tells the loop: one per wire message that needs the loop, and the session's start and end.</summary>
internal enum PeerEventKind : byte
{
    Connected,
    Closed,
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
    Reject,
    AllowedFast,
    Suggest,
    /// <summary>A requested block, already copied into <see cref="PeerEvent.Piece"/>.</summary>
    BlockReceived,
    /// <summary>A requested block that found no buffer to land in.</summary>
    BlockDropped,
    /// <summary>A block nobody asked this peer for (dropped unread).</summary>
    BlockUnrequested,
    Extended,
}

/// <summary>
/// A peer event: a struct with typed fields, so the commonest item of all (a block arriving) allocates nothing.
/// <see cref="Payload"/> is set for Bitfield and Extended (the extended id in <see cref="Index"/>); <see cref="Piece"/> for BlockReceived.
/// </summary>
internal readonly record struct PeerEvent(PeerSession Peer, PeerEventKind Kind, int Index = 0, int Begin = 0, int Length = 0,
    ActivePiece? Piece = null, byte[]? Payload = null);

/// <summary>Everything else the loop is told: rare, so each is a small record, dispatched by type in one switch.</summary>
internal abstract record TorrentMessage;

/// <summary>The once-a-second timer fired.</summary>
internal sealed record TickMessage : TorrentMessage
{
    public static readonly TickMessage Instance = new();
}

/// <summary>A public command (pause, resume, ...) to run on the loop; completed when it ran.</summary>
internal sealed record CommandMessage(Action<TorrentManager> Action) : TorrentMessage
{
    public TaskCompletionSource Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>Addresses to dial, from any peer source (given peers, magnets, trackers; DHT and PEX go here too).</summary>
internal sealed record PeersFoundMessage(IReadOnlyList<IPEndPoint> EndPoints, PeerSource Source) : TorrentMessage;

/// <summary>
/// The file check finished (off the loop): what is on disk, and the counters resume data carried, which only the
/// loop may write into its fields.
/// </summary>
internal sealed record CheckDoneMessage(BitField Have, IPieceStore? Storage, string? Error, bool FromResume = false, ResumeCounters? Counters = null) : TorrentMessage;

/// <summary>Totals carried over from resume data.</summary>
internal sealed record ResumeCounters(long Uploaded, long Downloaded, TimeSpan SeedingTime, DateTimeOffset? CompletedAt);

/// <summary>A completed piece was hashed (and written when it passed).</summary>
internal sealed record PieceHashedMessage(int Index, bool Passed, PeerSession[] Contributors, string? WriteError) : TorrentMessage;

/// <summary>An announce returned.</summary>
internal sealed record AnnounceDoneMessage(AnnounceResult Result) : TorrentMessage;

/// <summary>A block of a piece we have could not be read whole.</summary>
internal sealed record ReadFailedMessage(int Index) : TorrentMessage;

/// <summary>The verdict on a piece whose read failed.</summary>
internal sealed record PieceRecheckedMessage(int Index, bool Passed) : TorrentMessage;

/// <summary>One item of the loop's queue: a peer event, or a message when <see cref="Message"/> is set.</summary>
internal readonly record struct LoopItem(PeerEvent Peer, TorrentMessage? Message)
{
    public static implicit operator LoopItem(in PeerEvent e) => new(e, null);

    public static implicit operator LoopItem(TorrentMessage m) => new(default, m);
}
