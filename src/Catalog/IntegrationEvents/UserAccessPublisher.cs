using System.Collections.Concurrent;
using TorrentEdge.Catalog.Infrastructure;
using TorrentEdge.Contracts;
using TorrentEdge.Contracts.Users;
using TorrentEdge.ServiceDefaults.Messaging;

namespace TorrentEdge.Catalog.IntegrationEvents;

/// <summary>The users whose access status (disabled, role) changed and must be published to torrent-users.</summary>
public sealed class UserAccessSignal
{
    private readonly ConcurrentDictionary<string, byte> _pending = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0, 1);

    /// <summary>The user's status changed in the store (call after the write committed).</summary>
    public void Notify(string userId)
    {
        _pending[userId] = 0;
        try
        {
            if (_wake.CurrentCount == 0)
            {
                _wake.Release();
            }
        }
        catch (SemaphoreFullException)
        {
        }
    }

    /// <summary>Takes the pending user ids (each once, however often it was notified).</summary>
    public IReadOnlyList<string> Take()
    {
        var ids = _pending.Keys.ToList();
        foreach (var id in ids)
        {
            _pending.TryRemove(id, out _);
        }
        return ids;
    }

    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _wake.WaitAsync(timeout, cancellationToken);
}

/// <summary>
/// Publishes each account's access status to torrent-users after the admin's change committed: publish-after-commit with
/// retry rather than an outbox column. The message carries the status read from the store at publish time (not the
/// change), so publishing it again is always right; a failed publish keeps the user pending and retries with back-off;
/// and at every start every account is published again, which covers a crash between the commit and the publish and a
/// broker that lost its log (the embedded Kafka keeps it in memory).
/// </summary>
public sealed partial class UserAccessPublisher(
    ICatalogStore store,
    UserAccessSignal signal,
    TimeProvider time,
    ILogger<UserAccessPublisher> logger,
    IIntegrationEventPublisher? publisher = null) : BackgroundService
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (publisher is null)
        {
            return;
        }
        var pending = new HashSet<string>(StringComparer.Ordinal);
        var everyone = true;
        var backoff = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (everyone)
                {
                    foreach (var user in await store.ListUsersAsync(stoppingToken))
                    {
                        pending.Add(user.Id);
                    }
                    everyone = false;
                    LogPublishingAll(logger, pending.Count);
                }
                pending.UnionWith(signal.Take());
                foreach (var userId in pending.ToList())
                {
                    await PublishAsync(userId, stoppingToken);
                    pending.Remove(userId);
                }
                backoff = TimeSpan.Zero;
                await signal.WaitAsync(Idle, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromMilliseconds(200) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                LogPublishFailed(logger, e, pending.Count, backoff);
                try
                {
                    await Task.Delay(backoff, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task PublishAsync(string userId, CancellationToken cancellationToken)
    {
        // The version is taken before the read: a status read later always carries a version at least as high.
        var version = time.GetUtcNow().ToUnixTimeMilliseconds();
        var user = await store.FindUserByIdAsync(userId, cancellationToken);
        if (user is null)
        {
            return;
        }
        await publisher!.PublishAsync(Topics.Users, user.Id, new UserAccessChanged(user.Id, user.Disabled, user.Role, version), cancellationToken);
        LogPublished(logger, user.Id, user.Disabled, user.Role);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Publishing the access status of all {Count} users (start)")]
    private static partial void LogPublishingAll(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Published access of user {UserId}: disabled {Disabled}, role {Role}")]
    private static partial void LogPublished(ILogger logger, string userId, bool disabled, string role);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Publishing user access statuses failed ({Pending} pending); retrying in {Backoff}")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception, int pending, TimeSpan backoff);
}
