using System.Numerics;

namespace TorrentEdge.Engine.Connections;

/// <summary>
/// How many bytes a receive from a peer that streams blocks should wait for (SO_RCVLOWAT). A peer that sends slower
/// than we take the data wakes us for every few segments that arrive; each wake-up is a context switch for the socket
/// engine's thread and one for the thread that runs the receive, which cost as much CPU per GiB as the rest of the
/// receive path when the sender was slow. Waiting for a batch instead bounds the wake-ups per GiB. The batch never
/// exceeds what the peer owes us (so it always arrives unless the peer stops; <see cref="PeerWireReader.RelaxLowWater"/>
/// undoes it if it does) nor what the peer sent in the last 10 ms (so nothing waits longer than about that).
/// </summary>
public static class ReceiveLowWater
{
    /// <summary>The largest batch: half the reader's largest receive.</summary>
    public const int Maximum = 128 * 1024;

    /// <summary>Below this a batch saves too few wake-ups to be worth a system call to set it.</summary>
    public const int Minimum = 32 * 1024;

    /// <summary>How long a batch may take to fill at the peer's recent rate.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromMilliseconds(10);

    /// <summary>
    /// The mark for the next receive: 1 (any data), or a power of two from <see cref="Minimum"/> to
    /// <see cref="Maximum"/> at most half of what is owed beyond what is already buffered, and at most what arrived in
    /// the last <see cref="Window"/>. Powers of two keep the mark, and its system call, from changing at every receive.
    /// </summary>
    /// <param name="owedBytes">Bytes of requested blocks that have not arrived.</param>
    /// <param name="bufferedBytes">Bytes received and not yet handled (part of a block, counted in the owed bytes).</param>
    /// <param name="recentBytes">Bytes received in the last <see cref="Window"/>.</param>
    public static int Choose(long owedBytes, long bufferedBytes, long recentBytes)
    {
        var bound = Math.Min(Math.Min((owedBytes - bufferedBytes) / 2, recentBytes), Maximum);
        return bound < Minimum ? 1 : 1 << BitOperations.Log2((uint)bound);
    }
}
