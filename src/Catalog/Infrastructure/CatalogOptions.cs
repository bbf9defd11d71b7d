namespace TorrentEdge.Catalog.Infrastructure;

/// <summary>Settings of accounts and tokens (configuration section <c>Auth</c>).</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    public string Issuer { get; set; } = "torrentedge";
    public string Audience { get; set; } = "torrentedge";

    /// <summary>PEM text of the EC P-256 private key that signs access tokens.</summary>
    public string? SigningKey { get; set; }

    /// <summary>Path of a PEM file holding that key (used when <see cref="SigningKey"/> is empty).</summary>
    public string? SigningKeyPath { get; set; }

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(5);
    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromDays(14);
    public int MaxFailedLogins { get; set; } = 5;
    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Log-in and registration attempts allowed per client address per minute.</summary>
    public int LoginPermitsPerMinute { get; set; } = 10;
    public int MinPasswordLength { get; set; } = 8;

    /// <summary>
    /// Services that may get a service token (client id → shared secret), e.g. <c>Auth:ServiceClients:peerworker</c>.
    /// None by default, in every environment: the AppHost generates one per run and hands it to Catalog and the workers.
    /// </summary>
    public Dictionary<string, string> ServiceClients { get; set; } = [];

    /// <summary>Audience of service tokens; distinct from <see cref="Audience"/> so no other service accepts them.</summary>
    public string ServiceAudience { get; set; } = "torrentedge-catalog";

    public TimeSpan ServiceTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Shortest shared secret accepted for a service client (checked at start).</summary>
    public const int MinServiceSecretLength = 32;
}

/// <summary>Settings of the torrent registry (configuration section <c>Catalog</c>).</summary>
public sealed class CatalogOptions
{
    public const string Section = "Catalog";

    public long MaxTorrentFileBytes { get; set; } = 10 * 1024 * 1024;

    /// <summary>Metainfo up to this size travels inside the spec; larger is fetched from Catalog by info-hash.</summary>
    public int InlineMetainfoMaxBytes { get; set; } = 256 * 1024;
    public TimeSpan OutboxPollInterval { get; set; } = TimeSpan.FromSeconds(2);
    public TimeSpan OutboxMaxBackoff { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Torrents one user may own (shared ones count for each owner); 0: no limit. Admins override it per user.</summary>
    public long MaxTorrentsPerUser { get; set; } = 1000;

    /// <summary>
    /// Total size of the torrents one user owns (shared ones count in full for each owner; a magnet counts once its
    /// metadata is known); 0: no limit, the default, since disks differ. Admins override it per user.
    /// </summary>
    public long MaxBytesPerUser { get; set; }

    /// <summary>
    /// Publish every torrent's desired state again when Catalog starts: the embedded Kafka keeps its log in memory, so
    /// after a restart torrent-specs is empty. On a compacted topic this costs one record per torrent and changes nothing.
    /// </summary>
    public bool RepublishOnStart { get; set; } = true;

    /// <summary>How often torrent-specs' end offsets are checked for a lost or recreated topic; zero turns the check off.</summary>
    public TimeSpan SpecTopicCheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often seeding torrents are checked against their owners' share limits; zero turns enforcement off.</summary>
    public TimeSpan ShareLimitCheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Where PeerWorkers put downloads (their <c>PeerWorker:DownloadRoot</c>), as the download-client APIs report paths;
    /// by default <c>&lt;TorrentEdge:DataDir&gt;/downloads</c>, which is where the AppHost points the workers.
    /// </summary>
    public string? DownloadRoot { get; set; }
}
