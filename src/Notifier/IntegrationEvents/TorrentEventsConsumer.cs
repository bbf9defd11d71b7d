using MassTransit;
using Microsoft.AspNetCore.SignalR;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.Notifier.Hubs;

namespace TorrentEdge.Notifier.IntegrationEvents;

/// <summary>
/// The last sequence pushed per torrent: a redelivered event, or a late one from a torrent's previous owner, is not
/// pushed again (browsers would show a step backwards). Bounded: past <see cref="MaxTorrents"/> it starts afresh, which
/// at worst lets one duplicate per torrent through.
/// </summary>
public sealed class PushedSequences
{
    public const int MaxTorrents = 100_000;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, long> _last = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>True when <paramref name="e"/> is newer than everything pushed for its torrent (or carries no sequence).</summary>
    public bool TryAdvance(TorrentEvent e)
    {
        if (e.Sequence <= 0)
        {
            return true;
        }
        lock (_gate)
        {
            if (_last.TryGetValue(e.InfoHash, out var last) && e.Sequence <= last)
            {
                return false;
            }
            if (_last.Count >= MaxTorrents)
            {
                _last.Clear();
            }
            _last[e.InfoHash] = e.Sequence;
            return true;
        }
    }
}

/// <summary>Pushes each torrent event to the SignalR groups of its owners (and the per-torrent subscribers for detail events).</summary>
public sealed class TorrentEventsConsumer(IHubContext<TorrentHub> hub, PushedSequences pushed) :
    IConsumer<TorrentAdded>,
    IConsumer<TorrentProgressed>,
    IConsumer<TorrentPiecesVerified>,
    IConsumer<TorrentCompleted>,
    IConsumer<TorrentSeeding>,
    IConsumer<TorrentFailed>,
    IConsumer<TorrentQueueChanged>,
    IConsumer<TorrentStateChanged>,
    IConsumer<TorrentRemoved>,
    IConsumer<TorrentMetadataReceived>
{
    public Task Consume(ConsumeContext<TorrentAdded> context) => ToOwners(TorrentHubEvents.Added, context);

    // A download announces to the trackers of whoever added it, and a shared download's owners must not see each other's
    // announce URLs (passkeys live in their paths and queries): the push names each tracker by its origin only. An
    // owner's own full URLs are in Catalog's GET /api/torrents/{infoHash}.
    public Task Consume(ConsumeContext<TorrentProgressed> context) => ToOwners(TorrentHubEvents.Progress, context,
        context.Message with { Trackers = [.. context.Message.Trackers.Select(t => t with { Url = TrackerOrigin(t.Url), LastError = null })] });

    /// <summary>A tracker URL without its path, query or user info.</summary>
    internal static string TrackerOrigin(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Host.Length > 0
            ? $"{uri.Scheme}://{uri.Host}{(uri.IsDefaultPort ? "" : ":" + uri.Port)}"
            : "(tracker)";

    // Piece batches are chatty: only connections that opened this torrent's detail (Subscribe) get them.
    public Task Consume(ConsumeContext<TorrentPiecesVerified> context)
    {
        var e = context.Message;
        if (!pushed.TryAdvance(e))
        {
            return Task.CompletedTask;
        }
        return hub.Clients.Groups([.. e.Owners.Select(o => TorrentHub.TorrentGroup(e.InfoHash, o))])
            .SendAsync(TorrentHubEvents.Piece, e, context.CancellationToken);
    }

    public Task Consume(ConsumeContext<TorrentCompleted> context) => ToOwners(TorrentHubEvents.Complete, context);

    public Task Consume(ConsumeContext<TorrentSeeding> context) => ToOwners(TorrentHubEvents.Seeding, context);

    public Task Consume(ConsumeContext<TorrentFailed> context) => ToOwners(TorrentHubEvents.Error, context);

    public Task Consume(ConsumeContext<TorrentQueueChanged> context) => ToOwners(TorrentHubEvents.QueueUpdated, context);

    public Task Consume(ConsumeContext<TorrentStateChanged> context) => ToOwners(TorrentHubEvents.State, context);

    public Task Consume(ConsumeContext<TorrentRemoved> context) => ToOwners(TorrentHubEvents.Removed, context);

    // The metainfo bytes stay out of the browser push; Catalog serves them.
    public Task Consume(ConsumeContext<TorrentMetadataReceived> context) => ToOwners(TorrentHubEvents.Metadata, context,
        context.Message with { Metainfo = [] });

    private Task ToOwners<TEvent>(string name, ConsumeContext<TEvent> context, TEvent? payload = null)
        where TEvent : TorrentEvent
    {
        var owners = context.Message.Owners;
        if (owners.Count == 0 || !pushed.TryAdvance(context.Message))
        {
            return Task.CompletedTask;
        }
        return hub.Clients.Groups([.. owners.Select(TorrentHub.UserGroup)])
            .SendAsync(name, payload ?? context.Message, context.CancellationToken);
    }
}
