using System.Collections.Concurrent;
using TorrentEdge.Contracts.Users;

namespace TorrentEdge.ServiceDefaults.Auth;

/// <summary>One user's latest access status as folded from <c>torrent-users</c>.</summary>
public sealed record UserAccess(string UserId, bool Disabled, string Role, long Version);

/// <summary>What <see cref="UserAccessList.Check"/> says about a token's user.</summary>
public enum UserAccessVerdict
{
    /// <summary>Not known to be disabled, and the token's role is the current one (or the user was never published).</summary>
    Accepted,

    /// <summary>An admin disabled the account.</summary>
    Disabled,

    /// <summary>An admin changed the role since the token was issued: a refresh gives a token with the current one.</summary>
    RoleChanged,

    /// <summary>The list has not read the topic to its end yet and the start-up grace is over: fail closed.</summary>
    NotCaughtUp,
}

/// <summary>Told of every status the list takes in (Notifier closes a disabled user's hub connections).</summary>
public interface IUserAccessListener
{
    /// <summary>Called on the list's consumer thread after <paramref name="access"/> became the user's status; keep it short.</summary>
    void OnUserAccessChanged(UserAccess access);
}

/// <summary>Settings of the user access list (configuration section <c>Auth:UserAccess</c>).</summary>
public sealed class UserAccessOptions
{
    public const string Section = "Auth:UserAccess";

    /// <summary>
    /// How long after start tokens are still accepted while the list has not caught up with the topic's end (fail open);
    /// after that, until it catches up, every token is refused (fail closed) and the readiness check is unhealthy.
    /// </summary>
    public TimeSpan CatchUpGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The topic to fold; <c>torrent-users</c> unless a test or a deployment says otherwise.</summary>
    public string Topic { get; set; } = Contracts.Topics.Users;
}

/// <summary>
/// Every user's latest access status (disabled, role), kept in memory by each replica of each service that validates
/// tokens, folded from Catalog's compacted <c>torrent-users</c> topic by <see cref="UserAccessConsumer"/>. Reads take no lock.
/// </summary>
public sealed class UserAccessList(TimeProvider time, TimeSpan catchUpGrace)
{
    private readonly ConcurrentDictionary<string, UserAccess> _users = new(StringComparer.Ordinal);
    private readonly DateTimeOffset _startedAt = time.GetUtcNow();
    private readonly TaskCompletionSource _caughtUp = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>True once every partition was read to the end it had when reading began.</summary>
    public bool IsCaughtUp => _caughtUp.Task.IsCompleted;

    /// <summary>Completes when <see cref="IsCaughtUp"/> becomes true.</summary>
    public Task CaughtUp => _caughtUp.Task;

    public int Count => _users.Count;

    public UserAccess? Find(string userId) => _users.GetValueOrDefault(userId);

    /// <summary>
    /// Folds one record: the highest <see cref="UserAccessChanged.Version"/> wins, and of equal versions the later one
    /// (the log's order). Returns the user's status when it changed, null when the record was stale or changed nothing.
    /// </summary>
    public UserAccess? Apply(UserAccessChanged change)
    {
        var next = new UserAccess(change.UserId, change.Disabled, change.Role, change.Version);
        while (true)
        {
            if (!_users.TryGetValue(change.UserId, out var current))
            {
                if (_users.TryAdd(change.UserId, next))
                {
                    return next;
                }
                continue;
            }
            if (change.Version < current.Version)
            {
                return null;
            }
            if (_users.TryUpdate(change.UserId, next, current))
            {
                return current with { Version = next.Version } == next ? null : next;
            }
        }
    }

    internal void MarkCaughtUp() => _caughtUp.TrySetResult();

    /// <summary>
    /// Whether a validated token of <paramref name="userId"/> (its <c>sub</c>) carrying <paramref name="role"/> may be used.
    /// A user the list has never seen is accepted: Catalog publishes every account at its start and every change after,
    /// so an unknown user is one that was never disabled.
    /// </summary>
    public UserAccessVerdict Check(string? userId, string? role)
    {
        if (!IsCaughtUp && time.GetUtcNow() - _startedAt >= catchUpGrace)
        {
            return UserAccessVerdict.NotCaughtUp;
        }
        if (userId is null || !_users.TryGetValue(userId, out var access))
        {
            return UserAccessVerdict.Accepted;
        }
        if (access.Disabled)
        {
            return UserAccessVerdict.Disabled;
        }
        return role is not null && !string.Equals(role, access.Role, StringComparison.Ordinal)
            ? UserAccessVerdict.RoleChanged
            : UserAccessVerdict.Accepted;
    }
}
