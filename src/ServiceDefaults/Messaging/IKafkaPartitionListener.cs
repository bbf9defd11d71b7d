using Confluent.Kafka;

namespace TorrentEdge.ServiceDefaults.Messaging;

/// <summary>
/// Told when a subscription's consumer gains or loses partitions (ownership by partition, e.g. PeerWorker's torrents).
/// Register any number with DI; each hears every subscription of the process and filters by <see cref="KafkaPartitionsChange.Topic"/>.
/// Called on the consumer's thread between messages: no message of a revoked partition is being handled at that moment.
/// </summary>
public interface IKafkaPartitionListener
{
    void OnPartitionsAssigned(KafkaPartitionsChange change);

    /// <summary>Also called when partitions are lost (the member was expelled); handled offsets were committed where possible.</summary>
    void OnPartitionsRevoked(KafkaPartitionsChange change);
}

/// <summary>Which partitions of <paramref name="Topic"/> changed hands for the consumer group <paramref name="GroupId"/>.</summary>
public sealed record KafkaPartitionsChange(string Topic, string GroupId, IReadOnlyList<int> Partitions, bool Lost = false);

/// <summary>Live state of one subscription, for its health check and for tests.</summary>
public sealed class KafkaSubscriptionState(string topic, string groupId)
{
    private int[] _assigned = [];
    private long _lastPollTicks;

    public string Topic { get; } = topic;

    public string GroupId { get; } = groupId;

    public string Name => KafkaSubscriptionOptions.NameFor(Topic, GroupId);

    public bool Running { get; internal set; }

    /// <summary>The last fatal error of the consume loop, if it stopped because of one.</summary>
    public string? Fault { get; internal set; }

    public DateTimeOffset LastPoll => new(Interlocked.Read(ref _lastPollTicks), TimeSpan.Zero);

    /// <summary>False until the first poll returned (<see cref="LastPoll"/> is then <see cref="DateTimeOffset.MinValue"/>).</summary>
    public bool HasPolled => Interlocked.Read(ref _lastPollTicks) != 0;

    /// <summary>When the consume loop last started; null before.</summary>
    public DateTimeOffset? StartedAt { get; internal set; }

    /// <summary>Partitions currently assigned to this member (an immutable snapshot).</summary>
    public IReadOnlyList<int> AssignedPartitions => Volatile.Read(ref _assigned);

    internal void Polled(DateTimeOffset now) => Interlocked.Exchange(ref _lastPollTicks, now.UtcTicks);

    internal void Assign(IEnumerable<TopicPartition> partitions)
        => Volatile.Write(ref _assigned, [.. _assigned.Union(partitions.Select(p => p.Partition.Value)).Order()]);

    internal void ClearAssignment() => Volatile.Write(ref _assigned, []);

    internal void Revoke(IEnumerable<TopicPartition> partitions)
        => Volatile.Write(ref _assigned, [.. _assigned.Except(partitions.Select(p => p.Partition.Value))]);
}
