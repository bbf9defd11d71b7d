namespace TorrentEdge.Catalog.Model;

/// <summary>
/// One user's own view of one torrent that is not desired state: category, tags and the settings a download client
/// keeps per torrent (share limits, sequential, first/last piece, force start). Keyed by (user, info-hash): co-owners of
/// one download each have their own.
/// </summary>
public sealed class TorrentLabels
{
    /// <summary>qBittorrent's sentinel for "use the global limit" (ratio_limit, seeding_time_limit).</summary>
    public const int UseGlobalLimit = -2;

    /// <summary>qBittorrent's sentinel for "no limit".</summary>
    public const int NoLimit = -1;

    public required string UserId { get; init; }
    public required string InfoHash { get; init; }

    /// <summary>The category, or empty for none.</summary>
    public string Category { get; set; } = "";
    public List<string> Tags { get; set; } = [];
    public double RatioLimit { get; set; } = UseGlobalLimit;

    /// <summary>Minutes of seeding, or a sentinel.</summary>
    public long SeedingTimeLimit { get; set; } = UseGlobalLimit;

    /// <summary>Minutes of seeding without traffic, or a sentinel.</summary>
    public long InactiveSeedingTimeLimit { get; set; } = UseGlobalLimit;
    public bool SequentialDownload { get; set; }
    public bool FirstLastPiecePriority { get; set; }
    public bool ForceStart { get; set; }

    public bool IsEmpty => Category.Length == 0 && Tags.Count == 0 && RatioLimit == UseGlobalLimit && SeedingTimeLimit == UseGlobalLimit
        && InactiveSeedingTimeLimit == UseGlobalLimit && !SequentialDownload && !FirstLastPiecePriority && !ForceStart;
}

/// <summary>
/// A named thing a user keeps apart from torrents: a category (its save path in <see cref="Value"/>), a tag, or a
/// download-client preference (its JSON value in <see cref="Value"/>). Keyed by (user, kind, name).
/// </summary>
public sealed record UserLabel(string UserId, string Kind, string Name, string? Value = null);

/// <summary>The kinds of <see cref="UserLabel"/>.</summary>
public static class UserLabelKinds
{
    public const string Category = "category";
    public const string Tag = "tag";
    public const string Preference = "preference";
}
