using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.AspNetCore.SignalR.Client;
using TorrentEdge.Contracts.Live;

namespace TorrentEdge.Notifier.Client;

/// <summary>One live event as received: its name and its typed payload.</summary>
public sealed record LiveEvent(string Name, LivePayload Payload);

/// <summary>
/// The typed .NET client of Notifier's hub (<c>/hubs/torrents</c>): every event of <see cref="LiveEventNames"/> arrives
/// on <see cref="Events"/> as its payload record, in order; <see cref="SubscribeAsync"/> adds a torrent's pieces.
/// </summary>
public sealed class TorrentEventsClient : IAsyncDisposable
{
    public const string HubPath = "/hubs/torrents";

    private static readonly JsonSerializerOptions Json = CreateJson();

    private static readonly IReadOnlyDictionary<string, Type> PayloadTypes = new Dictionary<string, Type>
    {
        [LiveEventNames.Added] = typeof(TorrentAddedPayload),
        [LiveEventNames.Progress] = typeof(TorrentProgressPayload),
        [LiveEventNames.Piece] = typeof(TorrentPiecePayload),
        [LiveEventNames.Complete] = typeof(TorrentCompletePayload),
        [LiveEventNames.Seeding] = typeof(TorrentSeedingPayload),
        [LiveEventNames.Error] = typeof(TorrentErrorPayload),
        [LiveEventNames.QueueUpdated] = typeof(QueueUpdatedPayload),
        [LiveEventNames.State] = typeof(TorrentStatePayload),
        [LiveEventNames.Removed] = typeof(TorrentRemovedPayload),
        [LiveEventNames.Metadata] = typeof(TorrentMetadataPayload),
    };

    private readonly Channel<LiveEvent> _events = Channel.CreateUnbounded<LiveEvent>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly TaskCompletionSource<Exception?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <param name="baseAddress">The Gateway (or Notifier) address; the hub path is added.</param>
    /// <param name="accessToken">Catalog's access token, asked for on each (re)connection.</param>
    public TorrentEventsClient(Uri baseAddress, Func<Task<string?>> accessToken, Action<HttpConnectionOptions>? configure = null)
    {
        Connection = new HubConnectionBuilder()
            .WithUrl(new Uri(baseAddress, HubPath), o =>
            {
                o.AccessTokenProvider = accessToken;
                configure?.Invoke(o);
            })
            .Build();
        foreach (var (name, type) in PayloadTypes)
        {
            Connection.On(name, [typeof(JsonElement)], args =>
            {
                var payload = (LivePayload)((JsonElement)args[0]!).Deserialize(type, Json)!;
                _events.Writer.TryWrite(new LiveEvent(name, payload));
                return Task.CompletedTask;
            });
        }
        Connection.Closed += error =>
        {
            _closed.TrySetResult(error);
            return Task.CompletedTask;
        };
    }

    /// <summary>The underlying connection, for state and options.</summary>
    public HubConnection Connection { get; }

    /// <summary>Events in the order they arrived.</summary>
    public ChannelReader<LiveEvent> Events => _events.Reader;

    /// <summary>Completes when the server or the network closes the connection (with the error, if any).</summary>
    public Task<Exception?> Closed => _closed.Task;

    public Task StartAsync(CancellationToken cancellationToken = default) => Connection.StartAsync(cancellationToken);

    /// <summary>Adds the torrent's detail events (<c>torrent:piece</c>); a torrent of another user yields nothing.</summary>
    public Task SubscribeAsync(string infoHash, CancellationToken cancellationToken = default)
        => Connection.InvokeAsync("Subscribe", infoHash, cancellationToken);

    public Task UnsubscribeAsync(string infoHash, CancellationToken cancellationToken = default)
        => Connection.InvokeAsync("Unsubscribe", infoHash, cancellationToken);

    /// <summary>The next event of type <typeparamref name="T"/> for <paramref name="infoHash"/>, skipping others.</summary>
    public async Task<T> NextAsync<T>(string infoHash, CancellationToken cancellationToken) where T : LivePayload
    {
        await foreach (var e in _events.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (e.Payload is T payload && string.Equals(payload.InfoHash, infoHash, StringComparison.OrdinalIgnoreCase))
            {
                return payload;
            }
        }
        throw new InvalidOperationException("The event stream ended.");
    }

    public async ValueTask DisposeAsync()
    {
        await Connection.DisposeAsync().ConfigureAwait(false);
        _events.Writer.TryComplete();
    }

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new JsonStringEnumConverter());
        return options;
    }
}
