namespace TorrentEdge.Engine.Choking;

/// <summary>Settings of the choking algorithm; defaults follow the original BitTorrent client.</summary>
public sealed record ChokerOptions
{
    /// <summary>Upload slots given by rate (tit-for-tat); the optimistic slot comes on top.</summary>
    public int RegularSlots { get; init; } = 4;

    /// <summary>How often the regular slots are recomputed.</summary>
    public TimeSpan RechokeInterval { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an optimistic unchoke lasts before it rotates.</summary>
    public TimeSpan OptimisticInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Peers connected for less than this count as new.</summary>
    public TimeSpan NewPeerWindow { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How many times likelier a new peer is to be picked optimistically (it has nothing to trade yet).</summary>
    public int NewPeerWeight { get; init; } = 3;

    public static ChokerOptions Default { get; } = new();
}
