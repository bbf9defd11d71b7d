using System.Net;
using TorrentEdge.Engine.Metainfo;

namespace TorrentEdge.Engine.Trackers;

/// <summary>The event of an announce; values are those of the UDP protocol (BEP 15).</summary>
public enum AnnounceEvent
{
    None = 0,
    Completed = 1,
    Started = 2,
    Stopped = 3,
}

/// <summary>What we tell a tracker in an announce.</summary>
public sealed record AnnounceRequest
{
    public required InfoHash InfoHash { get; init; }

    /// <summary>Our 20-byte peer id.</summary>
    public required ReadOnlyMemory<byte> PeerId { get; init; }

    public required int Port { get; init; }

    public long Uploaded { get; init; }

    public long Downloaded { get; init; }

    public long Left { get; init; }

    public AnnounceEvent Event { get; init; }

    /// <summary>Peers wanted; -1 lets the tracker decide.</summary>
    public int NumWant { get; init; } = 50;

    /// <summary>Random per-session key so trackers can recognise us across IP changes.</summary>
    public uint Key { get; init; }

    /// <summary>"tracker id" from a previous response, echoed back (HTTP only).</summary>
    public string? TrackerId { get; init; }
}

/// <summary>A tracker's answer to an announce.</summary>
public sealed record AnnounceResponse
{
    public required TimeSpan Interval { get; init; }

    public TimeSpan? MinInterval { get; init; }

    public string? TrackerId { get; init; }

    /// <summary>Seeders, if the tracker said.</summary>
    public int? Complete { get; init; }

    /// <summary>Leechers, if the tracker said.</summary>
    public int? Incomplete { get; init; }

    public string? WarningMessage { get; init; }

    public IReadOnlyList<IPEndPoint> Peers { get; init; } = [];
}

/// <summary>Swarm counts of one torrent from a scrape.</summary>
public readonly record struct ScrapeStats(int Complete, int Downloaded, int Incomplete);

/// <summary>What kind of failure a tracker request had.</summary>
public enum TrackerErrorKind
{
    /// <summary>The tracker answered with a "failure reason" (HTTP) or an error action (UDP).</summary>
    TrackerFailure,
    /// <summary>The answer could not be understood.</summary>
    InvalidResponse,
    /// <summary>Connecting, sending or receiving failed, or an HTTP error status.</summary>
    Network,
    /// <summary>No answer in time.</summary>
    Timeout,
    /// <summary>The tracker does not support the operation (e.g. no scrape URL).</summary>
    NotSupported,
}

/// <summary>A failed tracker request; <see cref="Kind"/> says whether the tracker refused or could not be reached.</summary>
public sealed class TrackerException : Exception
{
    public TrackerException(TrackerErrorKind kind, string message, Exception? inner = null)
        : base(message, inner) => Kind = kind;

    public TrackerErrorKind Kind { get; }

    /// <summary>The tracker's own reason, when <see cref="Kind"/> is <see cref="TrackerErrorKind.TrackerFailure"/>.</summary>
    public string? FailureReason => Kind == TrackerErrorKind.TrackerFailure ? Message : null;
}

/// <summary>Talks to one tracker (HTTP or UDP).</summary>
public interface ITrackerClient : IDisposable
{
    Uri Uri { get; }

    bool CanScrape { get; }

    /// <exception cref="TrackerException">The tracker refused, could not be reached, or answered nonsense.</exception>
    ValueTask<AnnounceResponse> AnnounceAsync(AnnounceRequest request, CancellationToken cancellationToken);

    /// <exception cref="TrackerException">As for announce; <see cref="TrackerErrorKind.NotSupported"/> when it cannot scrape.</exception>
    ValueTask<IReadOnlyDictionary<InfoHash, ScrapeStats>> ScrapeAsync(IReadOnlyList<InfoHash> infoHashes, CancellationToken cancellationToken);
}

/// <summary>Creates the client for a tracker URL.</summary>
public interface ITrackerClientFactory
{
    /// <summary>A client, or null when the scheme is not supported.</summary>
    ITrackerClient? Create(Uri uri);
}
