using System.Collections.Concurrent;
using MassTransit;
using TorrentEdge.Contracts.Live;
using TorrentEdge.Contracts.Torrents;
using TorrentEdge.Notifier.Live;

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

/// <summary>
/// Turns each torrent event into the live events of the original design (<see cref="LiveEventNames"/>) for its owners and
/// puts them on the bus, which reaches their connections on every replica and both transports.
/// </summary>
public sealed class TorrentEventsConsumer(ILiveBus bus, IQueueTotals totals, KnownCategories known, PushedSequences pushed) :
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
    public Task Consume(ConsumeContext<TorrentAdded> context)
    {
        if (!pushed.TryAdvance(context.Message))
        {
            return Task.CompletedTask;
        }
        var e = context.Message;
        return Publish(context, LiveMessage.Create(LiveEventNames.Added, e.InfoHash, e.Owners, new TorrentAddedPayload(e.InfoHash, e.Name, e.TotalBytes)));
    }

    public async Task Consume(ConsumeContext<TorrentProgressed> context)
    {
        if (!pushed.TryAdvance(context.Message))
        {
            return;
        }
        var e = context.Message;
        var payload = new TorrentProgressPayload(e.InfoHash, e.Name, Math.Round(Math.Clamp(e.Progress, 0, 1) * 100, 2), e.DownloadRate, e.UploadRate,
            new PeerCounts(e.PeersConnected, Math.Max(e.PeersTotal, e.PeersConnected)), e.State.ToString(), e.VerifiedBytes, e.TotalBytes,
            e.DownloadedBytes, e.UploadedBytes, e.EtaSeconds);
        await Publish(context, LiveMessage.Create(LiveEventNames.Progress, e.InfoHash, e.Owners, payload, coalesces: true));
        // The ratio moves while a torrent seeds: its owners see it with each progress that uploaded something.
        if (e.State == TorrentState.Seeding && e.UploadRate > 0)
        {
            var basis = e.DownloadedBytes > 0 ? e.DownloadedBytes : e.TotalBytes;
            var ratio = basis > 0 ? (double)e.UploadedBytes / basis : 0;
            await Publish(context, LiveMessage.Create(LiveEventNames.Seeding, e.InfoHash, e.Owners,
                new TorrentSeedingPayload(e.InfoHash, e.Name, ratio, e.UploadedBytes), coalesces: true));
        }
        // A Notifier that started late learns running torrents from their progress.
        await UpdateTotals(context, e.InfoHash, e.Owners, e.State, position: null, always: false);
    }

    // One event per verified piece, as the original design has it; only connections that opened this torrent's detail
    // (subscribe) get them. benchmarks/README.md has the cost against one event per batch.
    public async Task Consume(ConsumeContext<TorrentPiecesVerified> context)
    {
        if (!pushed.TryAdvance(context.Message))
        {
            return;
        }
        var e = context.Message;
        var verified = e.VerifiedCount - e.Pieces.Count;
        foreach (var index in e.Pieces)
        {
            verified++;
            await Publish(context, LiveMessage.Create(LiveEventNames.Piece, e.InfoHash, e.Owners,
                new TorrentPiecePayload(e.InfoHash, index, verified, e.PieceCount), subscribersOnly: true, coalesces: true));
        }
    }

    public Task Consume(ConsumeContext<TorrentCompleted> context)
    {
        if (!pushed.TryAdvance(context.Message))
        {
            return Task.CompletedTask;
        }
        var e = context.Message;
        return Publish(context, LiveMessage.Create(LiveEventNames.Complete, e.InfoHash, e.Owners, new TorrentCompletePayload(e.InfoHash, e.Name, e.TotalBytes)));
    }

    public Task Consume(ConsumeContext<TorrentSeeding> context)
    {
        if (!pushed.TryAdvance(context.Message))
        {
            return Task.CompletedTask;
        }
        var e = context.Message;
        return Publish(context, LiveMessage.Create(LiveEventNames.Seeding, e.InfoHash, e.Owners, new TorrentSeedingPayload(e.InfoHash, e.Name, e.Ratio, e.UploadedBytes)));
    }

    public async Task Consume(ConsumeContext<TorrentFailed> context)
    {
        if (!pushed.TryAdvance(context.Message))
        {
            return;
        }
        var e = context.Message;
        await Publish(context, LiveMessage.Create(LiveEventNames.Error, e.InfoHash, e.Owners, new TorrentErrorPayload(e.InfoHash, e.Name, e.Reason)));
        await UpdateTotals(context, e.InfoHash, e.Owners, TorrentState.Error, position: null, always: false);
    }

    public Task Consume(ConsumeContext<TorrentQueueChanged> context)
    {
        if (!pushed.TryAdvance(context.Message))
        {
            return Task.CompletedTask;
        }
        var e = context.Message;
        return UpdateTotals(context, e.InfoHash, e.Owners, e.State, e.Position, always: true);
    }

    public async Task Consume(ConsumeContext<TorrentStateChanged> context)
    {
        if (!pushed.TryAdvance(context.Message))
        {
            return;
        }
        var e = context.Message;
        await Publish(context, LiveMessage.Create(LiveEventNames.State, e.InfoHash, e.Owners, new TorrentStatePayload(e.InfoHash, e.State.ToString(), e.WorkerId)));
        await UpdateTotals(context, e.InfoHash, e.Owners, e.State, position: null, always: false);
    }

    public async Task Consume(ConsumeContext<TorrentRemoved> context)
    {
        if (!pushed.TryAdvance(context.Message))
        {
            return;
        }
        var e = context.Message;
        await Publish(context, LiveMessage.Create(LiveEventNames.Removed, e.InfoHash, e.Owners, new TorrentRemovedPayload(e.InfoHash, e.DataDeleted)));
        await UpdateTotals(context, e.InfoHash, e.Owners, state: null, position: null, always: false);
    }

    // The metainfo bytes stay out of the push; Catalog serves them.
    public Task Consume(ConsumeContext<TorrentMetadataReceived> context)
    {
        if (!pushed.TryAdvance(context.Message))
        {
            return Task.CompletedTask;
        }
        var e = context.Message;
        return Publish(context, LiveMessage.Create(LiveEventNames.Metadata, e.InfoHash, e.Owners, new TorrentMetadataPayload(e.InfoHash, e.Name, e.TotalBytes, e.FileCount)));
    }

    /// <summary>queue:updated carries each owner's own totals, so it is one event per owner.</summary>
    private async Task UpdateTotals<T>(ConsumeContext<T> context, string infoHash, IReadOnlyList<string> owners, TorrentState? state, int? position, bool always)
        where T : class
    {
        foreach (var owner in owners)
        {
            // Progress repeats the state every second: only a change of category costs a round trip to the totals.
            // A removal always goes there: the torrent may have been recorded by the replica that had its partition before.
            var news = known.Changes(owner, infoHash, state);
            if (!always && state is not null && !news)
            {
                continue;
            }
            var (stats, changed) = await totals.SetAsync(owner, infoHash, state);
            if (always || changed)
            {
                await Publish(context, LiveMessage.Create(LiveEventNames.QueueUpdated, infoHash, [owner],
                    new QueueUpdatedPayload(infoHash, stats, (state ?? TorrentState.Removed).ToString(), position)));
            }
        }
    }

    private Task Publish<T>(ConsumeContext<T> context, LiveMessage message) where T : class
        => message.Users.Count == 0 ? Task.CompletedTask : bus.PublishAsync(message, context.CancellationToken);
}

/// <summary>The last category this replica recorded per user and torrent (events of one torrent come to one replica: its partition's).</summary>
public sealed class KnownCategories
{
    private readonly ConcurrentDictionary<(string User, string InfoHash), char> _known = new();

    /// <summary>Whether <paramref name="state"/> is news for the totals; remembers it.</summary>
    public bool Changes(string user, string infoHash, TorrentState? state)
    {
        if (state is not { } s)
        {
            return _known.TryRemove((user, infoHash), out _);
        }
        var category = QueueCategory.Of(s);
        if (_known.TryGetValue((user, infoHash), out var old) && old == category)
        {
            return false;
        }
        _known[(user, infoHash)] = category;
        return true;
    }
}
