namespace TorrentEdge.Contracts;

/// <summary>Base of every integration event: an id, when it happened, and the schema version consumers check.</summary>
public abstract record IntegrationEvent
{
    public Guid Id { get; init; } = Guid.NewGuid();
    public DateTimeOffset OccurredAt { get; init; } = DateTimeOffset.UtcNow;
    public int SchemaVersion { get; init; } = 1;
}
