namespace TorrentEdge.Engine.Trackers;

/// <summary>Makes HTTP(S) and UDP tracker clients over one shared HttpClient.</summary>
public sealed class TrackerClientFactory(HttpClient httpClient, UdpTrackerOptions? udpOptions = null, TimeSpan? httpTimeout = null) : ITrackerClientFactory
{
    public ITrackerClient? Create(Uri uri) => uri.Scheme switch
    {
        "http" or "https" => new HttpTrackerClient(uri, httpClient, httpTimeout),
        "udp" when uri.Port > 0 => new UdpTrackerClient(uri, udpOptions),
        _ => null,
    };
}
