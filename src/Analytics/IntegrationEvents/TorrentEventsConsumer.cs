using MassTransit;
using TorrentEdge.Analytics.Model;
using TorrentEdge.Contracts.Torrents;

namespace TorrentEdge.Analytics.IntegrationEvents;

/// <summary>Records every torrent event into the statistics, once per event id.</summary>
public sealed class TorrentEventsConsumer(StatisticsRecorder recorder) :
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
    public Task Consume(ConsumeContext<TorrentAdded> context) => Apply(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<TorrentMetadataReceived> context) => Apply(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<TorrentProgressed> context) => Apply(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<TorrentPiecesVerified> context) => Apply(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<TorrentCompleted> context) => Apply(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<TorrentSeeding> context) => Apply(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<TorrentFailed> context) => Apply(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<TorrentStateChanged> context) => Apply(context.Message, context.CancellationToken);

    public Task Consume(ConsumeContext<TorrentRemoved> context) => Apply(context.Message, context.CancellationToken);

    private Task Apply(TorrentEvent e, CancellationToken cancellationToken) => recorder.RecordAsync(e, cancellationToken);
}
