using System.Net;

namespace TorrentEdge.Engine.LocalDiscovery;

/// <summary>
/// Settings of local service discovery (BEP 14). Set <see cref="EngineOptions.LocalDiscovery"/> to turn it on: it sends
/// multicast on the local link, so nothing in this repository turns it on by default (docs/engine-lsd.md).
/// </summary>
public sealed record LocalDiscoveryOptions
{
    /// <summary>
    /// The address of the interface to multicast on and receive from; null: the peer listener's address, or the system's
    /// choice for the group when that is unspecified (0.0.0.0).
    /// </summary>
    public IPAddress? InterfaceAddress { get; init; }

    /// <summary>Where announces go and are heard; BEP 14's 239.192.152.143:6771 (another port only for tests).</summary>
    public IPEndPoint Group { get; init; } = LsdCodec.MulticastEndPoint;

    /// <summary>How often each torrent is announced again after the announce at its start (libtorrent: 5 minutes).</summary>
    public TimeSpan AnnounceInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Shortest time between two announces of one torrent (a torrent paused and resumed in a loop announces no faster).</summary>
    public TimeSpan MinAnnounceInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the service looks for due torrents; each look sends at most one datagram.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Announces taken from one address in a burst; it regains one every <see cref="SourceRefillInterval"/>.</summary>
    public int SourceBurst { get; init; } = 20;

    /// <summary>How long one address waits for another announce to be taken once its burst is spent.</summary>
    public TimeSpan SourceRefillInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Addresses whose rate is tracked; beyond it an announce from a new address is dropped until one is forgotten.</summary>
    public int MaxTrackedSources { get; init; } = 256;

    /// <summary>Hop limit of our datagrams: 1, so they never pass a router (BEP 14 is for the local network).</summary>
    public int TimeToLive { get; init; } = 1;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
