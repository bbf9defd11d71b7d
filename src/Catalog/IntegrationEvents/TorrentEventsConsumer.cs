using MassTransit;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Catalog.IntegrationEvents;

/// <summary>Feeds every torrent event from torrent-events into the status projection.</summary>
public sealed class TorrentEventsConsumer(TorrentEventProjector projector) :
    IConsumer<TorrentAdded>,
    IConsumer<TorrentMetadataReceived>,
    IConsumer<TorrentProgressed>,
    IConsumer<TorrentPiecesVerified>,
    IConsumer<TorrentCompleted>,
    IConsumer<TorrentSeeding>,
    IConsumer<TorrentFailed>,
    IConsumer<TorrentStateChanged>,
    IConsumer<TorrentRemoved>,
    IConsumer<TorrentQueueChanged>
{
    public Task Consume(ConsumeContext<TorrentAdded> context) => projector.ProjectAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<TorrentMetadataReceived> context) => projector.ProjectAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<TorrentProgressed> context) => projector.ProjectAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<TorrentPiecesVerified> context) => projector.ProjectAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<TorrentCompleted> context) => projector.ProjectAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<TorrentSeeding> context) => projector.ProjectAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<TorrentFailed> context) => projector.ProjectAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<TorrentStateChanged> context) => projector.ProjectAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<TorrentRemoved> context) => projector.ProjectAsync(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<TorrentQueueChanged> context) => projector.ProjectAsync(context.Message, context.CancellationToken);
}
