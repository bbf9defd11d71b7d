using System.Net;
using TorrentEdge.Engine.Queueing;
using TorrentEdge.Engine.Storage;

namespace TorrentEdge.Engine;

/// <summary>Settings of a <see cref="ClientEngine"/>.</summary>
public sealed record EngineOptions
{
    /// <summary>Where incoming peers connect; port 0 picks a free port. Null: do not listen.</summary>
    public IPEndPoint? ListenEndPoint { get; init; } = new(IPAddress.Any, 0);

    /// <summary>Default folder for torrents added without a save path.</summary>
    public string DownloadDirectory { get; init; } = Path.Combine(Environment.CurrentDirectory, "downloads");

    /// <summary>Folder for resume data; null disables resume data.</summary>
    public string? ResumeDirectory { get; init; }

    /// <summary>How often resume data of a changing torrent is written.</summary>
    public TimeSpan ResumeSaveInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Torrents downloading at once; the rest wait in the queue (seeds do not count).</summary>
    public int MaxActiveDownloads { get; init; } = 3;

    /// <summary>Torrents seeding at once; null: no limit.</summary>
    public int? MaxActiveSeeds { get; init; }

    /// <summary>A complete torrent stops seeding (state Finished) once it has uploaded this many times its size; null: no limit.</summary>
    public double? SeedRatioLimit { get; init; }

    /// <summary>A complete torrent stops seeding (state Finished) after seeding this long; null: no limit.</summary>
    public TimeSpan? SeedTimeLimit { get; init; }

    /// <summary>Write downloaded pieces past the page cache where the file system allows (see <see cref="TorrentStorageOptions.DirectWrites"/>).</summary>
    public bool DirectWrites { get; init; } = true;

    /// <summary>Asked before every write or delete of a torrent's files and resume data; null: always allowed (see <see cref="IStorageFence"/>).</summary>
    public IStorageFence? StorageFence { get; init; }

    /// <summary>Threads that hash pieces in parallel during a full recheck; 0: one per core.</summary>
    public int RecheckParallelism { get; init; }

    public int MaxConnectionsPerTorrent { get; init; } = 50;

    public int MaxConnections { get; init; } = 200;

    /// <summary>
    /// Incoming connections whose handshake has not arrived yet, over the whole engine; beyond it a new incoming
    /// connection is closed at once, so a flood of silent sockets cannot hold memory and tasks for 15 s each.
    /// </summary>
    public int MaxPendingIncomingConnections { get; init; } = 64;

    /// <summary>Outgoing dials in progress (connect not yet completed) over the whole engine; further dials wait for a slot.</summary>
    public int MaxHalfOpenConnections { get; init; } = 32;

    /// <summary>Connections per torrent from or to one IP address (any port); the rest are refused.</summary>
    public int MaxConnectionsPerAddress { get; init; } = 3;

    /// <summary>
    /// Whether <see cref="MaxConnectionsPerAddress"/> applies to loopback addresses too. Off by default: local tests
    /// and benchmarks run every peer on 127.0.0.1.
    /// </summary>
    public bool LimitLoopbackConnections { get; init; }

    /// <summary>
    /// Peer addresses remembered per torrent (trackers, PEX, magnets); when full, a new one replaces the least
    /// useful (not connected, most failed dials, then oldest), or is dropped when every one is connected.
    /// </summary>
    public int MaxPeerCandidates { get; init; } = 2000;

    /// <summary>
    /// Bytes of piece buffers a torrent may hold for pieces being downloaded or hashed; at the cap no new piece is
    /// started until one completes (at least one piece always may be).
    /// </summary>
    public long MaxActivePieceBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>
    /// Items a torrent's loop queue holds before its peer sessions stop reading their sockets until the loop catches up
    /// (backpressure: the queue then holds at most this plus one item per connection, plus the loop's own messages).
    /// </summary>
    public int MaxLoopQueueLength { get; init; } = 4096;

    /// <summary>Upload limit in bytes per second over all torrents; 0 is unlimited.</summary>
    public long UploadRateLimit { get; init; }

    /// <summary>Download limit in bytes per second over all torrents; 0 is unlimited.</summary>
    public long DownloadRateLimit { get; init; }

    /// <summary>Whether a finished torrent keeps dialling peers (true: it also seeds to peers that cannot accept connections).</summary>
    public bool SeedsDialPeers { get; init; } = true;

    /// <summary>
    /// Strikes and bans count per address (true) or per address and port (false). Per address, a banned peer cannot
    /// come back from another port; per address and port spares the other users behind one NAT address.
    /// </summary>
    public bool BanByAddress { get; init; } = true;

    /// <summary>The port announced to trackers when it differs from the listening port (NAT); null: the listening port.</summary>
    public int? AnnouncePort { get; init; }

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Message stream encryption for peers (docs/engine-encryption.md); a torrent may override it.</summary>
    public Encryption.EncryptionPolicy Encryption { get; init; } = TorrentEdge.Engine.Encryption.EncryptionPolicy.Prefer;

    /// <summary>
    /// Where torrents keep their bytes; null: files under each torrent's save path (<see cref="FilePieceStoreFactory"/>
    /// with <see cref="DirectWrites"/>). <see cref="InMemoryPieceStoreFactory"/> keeps them in memory.
    /// </summary>
    public IPieceStoreFactory? PieceStores { get; init; }

    /// <summary>
    /// Makes the connections the engine dials; null: TCP sockets. The seam for a layer over every connection
    /// (encryption) or another transport; <see cref="Connections.InMemoryNetwork"/> runs engines with no sockets.
    /// </summary>
    public Connections.IPeerConnectionFactory? ConnectionFactory { get; init; }

    /// <summary>Makes the listener at <see cref="ListenEndPoint"/>; null: a TCP socket.</summary>
    public Connections.IPeerListenerFactory? ListenerFactory { get; init; }

    /// <summary>
    /// Where tracker URLs (and their redirects) and peers given with a torrent (x.pe) may be dialled. Unrestricted by
    /// default, for a client on someone's own machine; a multi-user service sets <see cref="Connections.DestinationPolicy.PublicOnly"/>.
    /// </summary>
    public Connections.DestinationPolicy Destinations { get; init; } = Connections.DestinationPolicy.Unrestricted;

    /// <summary>The DHT node (BEP 5) and its bootstrap nodes; null: no DHT. See docs/engine-dht.md.</summary>
    public Dht.DhtOptions? Dht { get; init; }

    /// <summary>
    /// Local service discovery (BEP 14): multicast announces on the local network; null: off. Off unless asked for,
    /// because its datagrams leave the machine (docs/engine-lsd.md).
    /// </summary>
    public LocalDiscovery.LocalDiscoveryOptions? LocalDiscovery { get; init; }

    /// <summary>Makes the transport of local discovery; null: <see cref="LocalDiscovery.UdpLsdTransport"/> on the group. Tests pass a fake.</summary>
    public Func<LocalDiscovery.LocalDiscoveryOptions, IPAddress?, LocalDiscovery.ILsdTransport>? LocalDiscoveryTransport { get; init; }
}

/// <summary>How to add one torrent.</summary>
public sealed record AddTorrentOptions
{
    /// <summary>Folder the torrent's file or folder is created in; default <see cref="EngineOptions.DownloadDirectory"/>.</summary>
    public string? SavePath { get; init; }

    public bool Paused { get; init; }

    public QueuePriority QueuePriority { get; init; } = QueuePriority.Normal;

    /// <summary>One per file, in the torrent's order; null: all normal.</summary>
    public IReadOnlyList<FilePriority>? FilePriorities { get; init; }

    /// <summary>Peers to dial at once (besides those the trackers give).</summary>
    public IReadOnlyList<IPEndPoint>? Peers { get; init; }

    /// <summary>Name shown until the metadata of a magnet is known.</summary>
    public string? DisplayName { get; init; }

    /// <summary>Tracker tiers for a magnet (its tr parameters).</summary>
    public IReadOnlyList<IReadOnlyList<string>>? Trackers { get; init; }

    /// <summary>Download pieces in order (within the highest file priority) instead of rarest first, for streaming.</summary>
    public bool Sequential { get; init; }

    /// <summary>
    /// Super-seeding (BEP 16) while this torrent is complete: peers that connect get no bitfield but one piece at
    /// a time through HAVE, the rarest not yet handed to another peer, so an initial seed uploads each piece about once.
    /// </summary>
    public bool SuperSeed { get; init; }

    /// <summary>Overrides <see cref="EngineOptions.SeedRatioLimit"/> for this torrent.</summary>
    public double? SeedRatioLimit { get; init; }

    /// <summary>Overrides <see cref="EngineOptions.SeedTimeLimit"/> for this torrent.</summary>
    public TimeSpan? SeedTimeLimit { get; init; }

    /// <summary>This torrent's upload limit in bytes per second (within the engine's); 0 is unlimited.</summary>
    public long UploadRateLimit { get; init; }

    /// <summary>This torrent's download limit in bytes per second (within the engine's); 0 is unlimited.</summary>
    public long DownloadRateLimit { get; init; }

    /// <summary>Overrides <see cref="EngineOptions.Encryption"/> for this torrent.</summary>
    public Encryption.EncryptionPolicy? Encryption { get; init; }
}
