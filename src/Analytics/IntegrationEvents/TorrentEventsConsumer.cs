using MassTransit;
using TorrentEdge.Analytics.Model;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Analytics.IntegrationEvents;

/// <summary>Folds every torrent event into the statistics.</summary>
public sealed class TorrentEventsConsumer(StatisticsStore store) :
    IConsumer<TorrentAdded>,
    IConsumer<TorrentMetadataReceived>,
    IConsumer<TorrentProgressed>,
    IConsumer<TorrentPiecesVerified>,
    IConsumer<TorrentCompleted>,
    IConsumer<TorrentSeeding>,
    IConsumer<TorrentFailed>,
    IConsumer<TorrentStateChanged>,
    IConsumer<TorrentRemoved>
{
    public Task Consume(ConsumeContext<TorrentAdded> context) => Apply(context.Message);

    public Task Consume(ConsumeContext<TorrentMetadataReceived> context) => Apply(context.Message);

    public Task Consume(ConsumeContext<TorrentProgressed> context) => Apply(context.Message);

    public Task Consume(ConsumeContext<TorrentPiecesVerified> context) => Apply(context.Message);

    public Task Consume(ConsumeContext<TorrentCompleted> context) => Apply(context.Message);

    public Task Consume(ConsumeContext<TorrentSeeding> context) => Apply(context.Message);

    public Task Consume(ConsumeContext<TorrentFailed> context) => Apply(context.Message);

    public Task Consume(ConsumeContext<TorrentStateChanged> context) => Apply(context.Message);

    public Task Consume(ConsumeContext<TorrentRemoved> context) => Apply(context.Message);

    private Task Apply(TorrentEvent e)
    {
        store.Apply(e);
        return Task.CompletedTask;
    }
}
