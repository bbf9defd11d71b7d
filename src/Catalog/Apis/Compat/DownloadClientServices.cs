using TorrentEdge.Catalog.Apis.Transmission;

namespace TorrentEdge.Catalog.Apis.Compat;

/// <summary>Registration of what the download-client APIs (qBittorrent's, Transmission's) share.</summary>
public static class DownloadClientServices
{
    public static IServiceCollection AddDownloadClientApis(this IServiceCollection services) => services
        .AddSingleton<ClientAuthenticator>()
        .AddSingleton<ClientTorrents>()
        .AddSingleton<TransmissionSession>();
}
