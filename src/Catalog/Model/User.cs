namespace TorrentEdge.Catalog.Model;

/// <summary>An account: its hashed password, role and lockout state.</summary>
public sealed class User
{
    public required string Id { get; init; }
    public required string UserName { get; init; }

    /// <summary>Upper-case invariant form of <see cref="UserName"/>: the unique key, so "Alice" and "alice" are one account.</summary>
    public required string NormalizedUserName { get; init; }
    public required string PasswordHash { get; set; }
    public string Role { get; set; } = Roles.User;
    public bool Disabled { get; set; }
    public int FailedLogins { get; set; }
    public DateTimeOffset? LockoutEnd { get; set; }
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>An admin's override of <c>Catalog:MaxTorrentsPerUser</c> for this user (0: no limit); null: the default.</summary>
    public long? MaxTorrents { get; set; }

    /// <summary>An admin's override of <c>Catalog:MaxBytesPerUser</c> for this user (0: no limit); null: the default.</summary>
    public long? MaxBytes { get; set; }

    public bool IsAdmin => Role == Roles.Admin;

    public static string Normalize(string userName) => userName.Trim().ToUpperInvariant();
}

/// <summary>The roles a user can have, and the role of service tokens (never a user's).</summary>
public static class Roles
{
    public const string Admin = "admin";
    public const string User = "user";

    /// <summary>A service (a PeerWorker) holding a client-credentials token: it may read any torrent's metainfo, nothing else.</summary>
    public const string Service = "service";

    public static bool IsValid(string? role) => role is Admin or User;
}

/// <summary>An opaque refresh token, stored only as its hash; one family per log-in so reuse revokes the whole chain.</summary>
public sealed class RefreshToken
{
    public required string Id { get; init; }
    public required string TokenHash { get; init; }
    public required string UserId { get; init; }
    public required string FamilyId { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset ExpiresAt { get; init; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>A personal API token for scripts; only its hash is stored, the token is shown once.</summary>
public sealed class ApiToken
{
    public required string Id { get; init; }
    public required string UserId { get; init; }
    public required string Name { get; init; }
    public required string TokenHash { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? ExpiresAt { get; init; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}
